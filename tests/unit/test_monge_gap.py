"""Monge-gap formulas against independent computations (POT, scipy, closed forms)."""
from __future__ import annotations

import math

import numpy as np
import ot  # POT, an independent OT implementation
import pytest
import torch

from paperdag.metrics import l2_uvp
from paperdag.papers.monge_gap import exact_monge_gap, gaussian_ot_map, monge_gap
from paperdag.papers.monge_gap.benchmarks import make_problem
from paperdag.papers.monge_gap.ot import cost_matrix, entropic_ot_cost


def _pot_entropic_cost(x: np.ndarray, y: np.ndarray, eps: float) -> float:
    """⟨P, C⟩ − εH(P) from POT's log-domain Sinkhorn, C = ½‖x − y‖²."""
    c = 0.5 * ot.dist(x, y)
    a = np.full(len(x), 1 / len(x))
    plan = ot.sinkhorn(a, a, c, reg=eps, method="sinkhorn_log", numItermax=3000, stopThr=1e-9)
    entropy = -(plan[plan > 0] * np.log(plan[plan > 0])).sum()
    return float((plan * c).sum() - eps * entropy)


def test_entropic_cost_matches_pot():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 3)), rng.standard_normal((64, 3)) * 1.3 + 0.5
    eps = 0.05
    ours = float(entropic_ot_cost(torch.tensor(x), torch.tensor(y), eps, scaling=0.99))
    assert ours == pytest.approx(_pot_entropic_cost(x, y, eps), rel=1e-3, abs=1e-3)


def test_monge_gap_port_parity_with_direct_formula():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 2))
    mapped = np.tanh(x) * 2 + x[:, ::-1]
    eps = 0.02
    direct = 0.5 * ((x - mapped) ** 2).sum(1).mean() - _pot_entropic_cost(x, mapped, eps)
    ours = float(monge_gap(torch.tensor(x), torch.tensor(mapped), epsilon=eps, scaling=0.99))
    assert ours == pytest.approx(direct, rel=5e-3, abs=2e-3)


def test_entropic_monge_gap_at_least_eps_log_n():
    x = torch.randn(128, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    eps = 0.1
    for mapped in (2 * x + 1, -x, torch.sin(3 * x)):
        assert float(monge_gap(x, mapped, epsilon=eps)) >= eps * math.log(len(x)) - 1e-3


def test_exact_monge_gap_zero_for_gradient_of_convex_and_positive_for_reflection():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((128, 3))
    m = rng.standard_normal((3, 3))
    psd = m @ m.T + 0.1 * np.eye(3)
    assert exact_monge_gap(x, x @ psd + 1.0) == pytest.approx(0.0, abs=1e-9)
    assert exact_monge_gap(x, -x) > 0.5


def test_exact_monge_gap_matches_pot_emd():
    rng = np.random.default_rng(4)
    x, mapped = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    c = 0.5 * ot.dist(x, mapped)
    expected = np.trace(c) / 50 - ot.emd2(np.full(50, 0.02), np.full(50, 0.02), c)
    assert exact_monge_gap(x, mapped) == pytest.approx(expected, abs=1e-9)


def test_gaussian_ot_map_pushes_forward_and_is_symmetric_psd():
    rng = np.random.default_rng(5)
    qa, qb = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    cov_a, cov_b = qa @ qa.T + np.eye(4), qb @ qb.T + 0.5 * np.eye(4)
    mean_a, mean_b = rng.standard_normal(4), rng.standard_normal(4)
    a, b = gaussian_ot_map(mean_a, cov_a, mean_b, cov_b)
    np.testing.assert_allclose(a, a.T, atol=1e-10)
    assert np.linalg.eigvalsh(a).min() > 0
    np.testing.assert_allclose(a @ cov_a @ a.T, cov_b, atol=1e-8)
    np.testing.assert_allclose(a @ mean_a + b, mean_b, atol=1e-10)
    pot_a, pot_b = ot.gaussian.bures_wasserstein_mapping(mean_a[None], mean_b[None], cov_a, cov_b)
    np.testing.assert_allclose(a, pot_a, atol=1e-6)


def test_l2_uvp_closed_form():
    gen = torch.Generator().manual_seed(6)
    true = torch.randn(10_000, 3, generator=gen) * torch.tensor([1.0, 2.0, 3.0])
    offset = torch.tensor([1.0, 0.0, 2.0])
    expected = 100 * 5.0 / float(true.var(0, unbiased=False).sum())
    assert l2_uvp(true + offset, true) == pytest.approx(expected, rel=1e-5)
    assert l2_uvp(true, true) == 0.0


@pytest.mark.parametrize("name", ["gaussian", "brenier"])
def test_benchmark_true_map_is_optimal(name):
    settings = {"gaussian": {"eig_min": 0.25, "eig_max": 4.0},
                "brenier": {"n_components": 3, "n_ridges": 8, "ridge_scale": 1.0}}[name]
    problem = make_problem(name, 3, settings)
    x = problem.sample_source(200, torch.Generator().manual_seed(7)).double()
    assert exact_monge_gap(x, problem.true_map(x.float()).double()) == pytest.approx(0.0, abs=1e-6)
    assert exact_monge_gap(x, -problem.true_map(x.float()).double()) > 0.1


def test_cost_matrix_conventions():
    x, y = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])
    assert float(cost_matrix(x, y, "sqeuclidean")) == pytest.approx(12.5)
    assert float(cost_matrix(x, y, "euclidean")) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="unknown cost"):
        cost_matrix(x, y, "l1")
