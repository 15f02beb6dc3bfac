"""Unit tests of the gauge-freedom formulas, each against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, special

from paperdag.papers.gauge_freedom import estimate_intrinsic_dimension, sphere_score
from paperdag.papers.gauge_freedom.analytic import (
    GaussianMixture,
    Manifold,
    bessel_ratio,
    id_corrupting_gauge,
    skew_matrix,
    torus_score,
    universal_gauge,
)
from paperdag.papers.gauge_freedom.estimators import (
    flow_jacobian_trajectory,
    full_log_gap_rule,
    gap_rule,
    log_gap_rule,
    non_conservativity,
    ode_log_likelihood,
    pointwise_jacobian,
    sample_ode,
)
from paperdag.papers.gauge_freedom.model import BatchedScoreModel

torch.set_num_threads(1)  # tiny tensors; threads only add contention on a shared 2-core machine

GMM = GaussianMixture(((-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)), (0.4, 0.4, 0.6), (0.3, 0.3, 0.4))


def _s2_log_density_quadrature(x: torch.Tensor, sigma: float, n: int = 400) -> torch.Tensor:
    """log ∫_{S²} N(x; y, σ²I) dy/(4π) by a tensor-product (θ, φ) midpoint rule, differentiable in x."""
    th = (torch.arange(n, dtype=torch.float64) + 0.5) * math.pi / n
    ph = (torch.arange(2 * n, dtype=torch.float64) + 0.5) * math.pi / n
    t, p = torch.meshgrid(th, ph, indexing="ij")
    y = torch.stack([torch.sin(t) * torch.cos(p), torch.sin(t) * torch.sin(p), torch.cos(t)], -1).reshape(-1, 3)
    logw = torch.log(torch.sin(t).reshape(-1) * (math.pi / n) ** 2 / (4 * math.pi))
    yfull = torch.cat([y, torch.zeros(len(y), x.shape[-1] - 3, dtype=torch.float64)], -1)
    sq = ((x[:, None, :] - yfull[None]) ** 2).sum(-1)
    return torch.logsumexp(logw - sq / (2 * sigma**2), dim=-1)


def test_sphere_score_matches_autograd_of_quadrature_density():
    sigma = 0.3
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.6
    x.requires_grad_(True)
    (auto,) = torch.autograd.grad(_s2_log_density_quadrature(x, sigma).sum(), x)
    assert torch.allclose(sphere_score(x.detach(), 2, sigma), auto, atol=1e-5, rtol=1e-5)


def test_circle_score_matches_numerical_integral():
    """k = 1: p_σ(x) ∝ ∫ exp(−‖x − (cos t, sin t)‖²/2σ²) dt; score by central differences of scipy quad."""
    sigma, x = 0.5, np.array([0.7, -0.4, 0.3])

    def logp(z):
        f = lambda t: np.exp(-((z[0] - np.cos(t)) ** 2 + (z[1] - np.sin(t)) ** 2 + z[2] ** 2) / (2 * sigma**2))  # noqa: E731
        return np.log(integrate.quad(f, 0, 2 * np.pi, epsabs=1e-13, epsrel=1e-12)[0])

    h = 1e-5
    fd = np.array([(logp(x + h * e) - logp(x - h * e)) / (2 * h) for e in np.eye(3)])
    np.testing.assert_allclose(sphere_score(torch.as_tensor(x)[None], 1, sigma)[0].numpy(), fd, atol=1e-5)


def test_bessel_ratio_gradient_matches_finite_difference():
    kappa = torch.tensor([0.3, 2.0, 50.0, 4000.0], dtype=torch.float64, requires_grad=True)
    for nu in (0.0, 0.5, 4.5):
        (g,) = torch.autograd.grad(bessel_ratio(kappa, nu).sum(), kappa)
        k, h = kappa.detach().numpy(), 1e-6 * kappa.detach().numpy()
        fd = (special.ive(nu + 1, k + h) / special.ive(nu, k + h) - special.ive(nu + 1, k - h) / special.ive(nu, k - h)) / (2 * h)
        np.testing.assert_allclose(g.numpy(), fd, rtol=1e-5, atol=1e-12)


def test_torus_score_is_sum_of_two_circle_scores():
    x = torch.randn(7, 6, dtype=torch.float64)
    s = torus_score(x, 0.2)
    a = sphere_score(torch.cat([x[:, 0:2], torch.zeros(7, 1, dtype=torch.float64)], -1), 1, 0.2)[:, :2]
    b = sphere_score(torch.cat([x[:, 2:4], torch.zeros(7, 1, dtype=torch.float64)], -1), 1, 0.2)[:, :2]
    assert torch.allclose(s, torch.cat([a, b, -x[:, 4:] / 0.04], -1))


def test_gmm_score_is_gradient_of_log_density():
    x = torch.randn(20, 2, dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(GMM.log_density(x, 0.3).sum(), x)
    assert torch.allclose(GMM.score(x.detach(), 0.3), auto, atol=1e-10)


def _grid_divergence(p: np.ndarray, r: np.ndarray, h: float) -> np.ndarray:
    return np.gradient(p * r[..., 0], h, axis=0) + np.gradient(p * r[..., 1], h, axis=1)


@pytest.mark.parametrize("gauge", ["universal", "id_circle"])
def test_gauge_terms_have_zero_divergence_flux(gauge):
    xs = np.linspace(-3.5, 3.5, 281)
    h = xs[1] - xs[0]
    pts = torch.as_tensor(np.stack(np.meshgrid(xs, xs + 0.013, indexing="ij"), -1))
    j = skew_matrix(2, 0)
    if gauge == "universal":
        p = torch.exp(GMM.log_density(pts, 0.5)).numpy()
        s = GMM.score(pts, 0.5)
        r = universal_gauge(GMM.score, 2.0, j)(pts, 0.5) - s
    else:
        fn = lambda z, sg: sphere_score(z, 1, sg)  # noqa: E731
        rho = pts.norm(dim=-1).numpy()
        p = np.exp(-(rho**2 + 1) / (2 * 0.25)) * special.i0(rho / 0.25)  # independent closed form for S¹
        s = fn(pts, 0.5)
        r = id_corrupting_gauge(fn, 1.0, j)(pts, 0.5) - s
    div = _grid_divergence(p, r.numpy(), h)[3:-3, 3:-3]
    control = _grid_divergence(p, s.numpy(), h)[3:-3, 3:-3]  # ∇·(p∇log p) = Δp ≠ 0
    assert np.abs(div).max() < 1e-3 * np.abs(control).max()
    not_a_gauge = _grid_divergence(p, 2.0 * s.numpy() @ np.diag([1.0, 0.2]), h)[3:-3, 3:-3]
    assert np.abs(not_a_gauge).max() > 0.1 * np.abs(control).max()


def test_gap_rules_on_constructed_spectra():
    # D = 6, normal space of size 4 (large), then 2 tangent (small): ID = 2
    sv = np.array([[10.0, 9.0, 8.5, 8.0, 0.1, 0.05]])
    assert gap_rule(sv).tolist() == [2]
    assert log_gap_rule(sv).tolist() == [2]
    # a huge first gap is ignored by the rule (first gap excluded): ID still 2
    sv2 = np.array([[100.0, 9.0, 8.5, 8.0, 0.1, 0.05]])
    assert gap_rule(sv2).tolist() == [2]
    assert full_log_gap_rule(sv2).tolist() == [4]
    # plain gap vs log-gap disagree when the small values are separated in ratio but not in size
    sv3 = np.array([[10.0, 9.5, 9.0, 3.0, 1e-3, 1e-6]])
    assert gap_rule(sv3).tolist() == [3]
    assert log_gap_rule(sv3).tolist() == [2]


@pytest.mark.parametrize("name", ["sphere", "torus"])
def test_estimator_recovers_k_with_exact_score_and_gauge_corrupts(name):
    m = Manifold(name, 10, 1)
    base = torch.as_tensor(m.sample(30, 5))
    sigma = 0.05 * (1.0 if name == "sphere" else math.sqrt(2))
    est = estimate_intrinsic_dimension(m.exact_score, base, sigma)
    assert (est == 2).mean() >= 0.95
    corrupted = estimate_intrinsic_dimension(id_corrupting_gauge(m.exact_score, 1.0, m.subspace_skew(3)), base, sigma)
    assert (corrupted != est).mean() >= 0.5


def test_id_gauge_is_orthogonal_rotation_generator_of_the_density():
    """J_∥ must leave p invariant: ⟨∇log p(x), J_∥ x⟩ = 0 (the flux condition for a linear gauge)."""
    for name in ("sphere", "torus"):
        m = Manifold(name, 8, 2)
        x = torch.as_tensor(m.sample(50, 1)) + 0.1 * torch.randn(50, 8, dtype=torch.float64)
        j = m.subspace_skew(0)
        assert torch.allclose(j, -j.T)
        assert ((m.exact_score(x, 0.1) * (x @ j.T)).sum(-1)).abs().max() < 1e-6


def test_untrained_models_conservative_symmetric_unconstrained_not():
    x = torch.randn(2, 16, 5)
    for kind, symmetric in (("conservative", True), ("unconstrained", False)):
        model = BatchedScoreModel(kind, [0, 1], 5, [16, 16], 3, 0.01, 4.0, 1.0)
        nc = non_conservativity(pointwise_jacobian(lambda z, model=model: model.score(z, 0.3), x).double())
        assert (nc.max() < 1e-5) if symmetric else (nc.min() > 1e-3)
        # the conservative score is the gradient of E = (φ − ½‖x‖²)/σ²: compare with autograd of E
        if kind == "conservative":
            xr = x.clone().requires_grad_(True)
            emb_phi = model._mlp(xr, torch.full(x.shape[:-1], 0.3)).sum() - 0.5 * (xr**2).sum()
            (g,) = torch.autograd.grad(emb_phi / 0.09, xr)
            assert torch.allclose(model.score(x, 0.3), g, atol=1e-4)


def test_gauge_keeps_sampling_and_likelihood_exact():
    gen = torch.Generator().manual_seed(0)
    start = GMM.sample(300, 10.0, gen)
    j = skew_matrix(2, 0)
    s0 = sample_ode(GMM.score, start, 10.0, 0.01, 100)
    s1 = sample_ode(universal_gauge(GMM.score, 1.0, j), start, 10.0, 0.01, 100)
    assert abs(s0.mean(0) - s1.mean(0)).max() < 0.3  # different paths, same distribution (coarse check)
    x0 = GMM.sample(10, 0.01, gen)
    exact = GMM.log_density(x0, 0.01)
    end = lambda z: GMM.log_density(z, 10.0)  # noqa: E731
    ll0 = ode_log_likelihood(GMM.score, x0, end, 0.01, 10.0, 60)
    ll1 = ode_log_likelihood(universal_gauge(GMM.score, 1.0, j), x0, end, 0.01, 10.0, 60)
    assert (ll0 - exact).abs().max() < 1e-3 and (ll1 - exact).abs().max() < 1e-3


def test_flow_jacobian_separates_tangent_from_normal_for_exact_sphere():
    m = Manifold("sphere", 6, 0)
    x1 = 4.0 * torch.randn(2, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    sig, svs = flow_jacobian_trajectory(m.exact_score, x1, 4.0, 0.01, 50, 2)
    assert sig[0] == 4.0 and math.isclose(sig[-1], 0.01)
    final = svs[:, -1]
    assert full_log_gap_rule(final).tolist() == [2, 2]
    # normal directions contract by σ_min/σ_max (dx/du = x − F, F ≈ const in the normal space)
    assert np.allclose(final[:, -1], 0.01 / 4.0, rtol=0.05)
