"""it_bounds: every formula against an independent computation (scipy, closed forms, direct simulation)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import integrate, linalg, stats

from paperdag.config import load_schema, resolve_paper
from paperdag.metrics import frechet_distance_from_stats
from paperdag.papers.it_bounds import spec
from paperdag.papers.it_bounds.bounds import evaluate_point
from paperdag.papers.it_bounds.claims import claims
from paperdag.papers.it_bounds.factored import FactoredNetwork, factored_quantities
from paperdag.papers.it_bounds.sdpi import (
    contraction_ratios,
    dropconnect_eta,
    dropconnect_kernel,
    dropout_eta,
    dropout_kernel,
    kl,
    noise_eta,
    noise_mixture_kl,
    random_pairs,
)
from paperdag.papers.it_bounds.testbed import (
    expected_ramp,
    gaussian_w1_1d,
    gaussian_w2_proportional,
    kl_from_projection,
    kl_per_layer,
    layer_maps,
    make_network,
    rowspace_projection,
    true_gen_error,
)

ROOT = Path(__file__).resolve().parents[2]
ARCHS = {
    "wide_shallow": ((2.0,), (1.0,)),
    "deep_narrow": ((0.8, 0.4, 0.2), (1.0, 1.0, 1.0)),
    "bottleneck_expand": ((0.2, 1.0), (1.0, 3.0)),
}


def _mu(d: int) -> np.ndarray:
    mu = np.zeros(d)
    mu[0] = 1.0
    return mu


def _gauss_kl_on_rowspace(a: np.ndarray, m1: np.ndarray, m0: np.ndarray, c: float, sigma: float) -> float:
    """KL(N(A m1, cσ²AAᵀ) ‖ N(A m0, σ²AAᵀ)) from the textbook formula, in a basis of range(A) (scipy.linalg.orth)."""
    basis = linalg.orth(a)  # orthonormal basis of the column space of A (where T = A V lives)
    s0 = basis.T @ (sigma**2 * a @ a.T) @ basis
    s1 = c * s0
    diff = basis.T @ a @ (m1 - m0)
    k = s0.shape[0]
    inv0 = np.linalg.inv(s0)
    return 0.5 * (np.trace(inv0 @ s1) - k + diff @ inv0 @ diff + np.linalg.slogdet(s0)[1] - np.linalg.slogdet(s1)[1])


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_kl_per_layer_matches_textbook_gaussian_kl(arch: str) -> None:
    d, n, sigma = 10, 20, 1.3
    mu = _mu(d)
    net = make_network(arch, d, *ARCHS[arch], seed=3)
    mu_hat = mu + sigma / np.sqrt(n) * np.random.default_rng(0).standard_normal((4, d))
    maps, _ = layer_maps(net, mu_hat)
    got, ranks = kl_per_layer(mu_hat, mu, sigma, n, maps)
    for i, (layer, a) in itertools.product(range(4), enumerate(maps)):
        ref = _gauss_kl_on_rowspace(np.asarray(a[i]), mu_hat[i], mu, 1 - 1 / n, sigma)
        assert got[i, layer] == pytest.approx(ref, rel=1e-7, abs=1e-10)
        assert ranks[i, layer] == np.linalg.matrix_rank(np.asarray(a[i]))


def test_d0_expectation_is_closed_form() -> None:
    d, n, sigma, draws = 12, 15, 1.0, 40000
    mu = _mu(d)
    mu_hat = mu + sigma / np.sqrt(n) * np.random.default_rng(1).standard_normal((draws, d))
    d0, _ = kl_per_layer(mu_hat, mu, sigma, n, [np.broadcast_to(np.eye(d), (draws, d, d))])
    closed = -(d / 2) * np.log(1 - 1 / n)
    se = d0[:, 0].std(ddof=1) / np.sqrt(draws)
    assert abs(d0[:, 0].mean() - closed) <= 3 * se


def test_rowspace_projection_handles_rank_deficiency() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal((5, 3, 8)) @ rng.standard_normal((5, 8, 8))  # rank 3 in R^8
    a = np.concatenate([a, a[:, :2] * 2.0], axis=1)  # 5 rows, rank 3
    x = rng.standard_normal((5, 8))
    proj, rank = rowspace_projection(a, x)
    for i in range(5):
        q = linalg.orth(a[i].T)
        assert rank[i] == 3
        assert proj[i] == pytest.approx(np.sum((q.T @ x[i]) ** 2), rel=1e-9)


def test_true_gen_error_agrees_with_direct_simulation() -> None:
    """Fit the network on real training sets, count its training errors, test it on fresh samples."""
    d, n, sigma, reps, n_test = 6, 12, 1.0, 4000, 400
    mu = _mu(d)
    net = make_network("deep_narrow", d, (0.8, 0.4), (1.0, 1.0), seed=5)
    rng = np.random.default_rng(7)
    y = rng.choice([-1.0, 1.0], size=(reps, n))
    x = y[..., None] * mu + sigma * rng.standard_normal((reps, n, d))
    mu_hat = (y[..., None] * x).mean(axis=1)
    maps, _ = layer_maps(net, mu_hat)
    w = maps[-1][:, 0, :]
    train_err = (np.sign(np.einsum("rnd,rd->rn", x, w)) != y).mean(axis=1)
    y_t = rng.choice([-1.0, 1.0], size=(reps, n_test))
    x_t = y_t[..., None] * mu + sigma * rng.standard_normal((reps, n_test, d))
    test_err = (np.sign(np.einsum("rnd,rd->rn", x_t, w)) != y_t).mean(axis=1)
    simulated = test_err - train_err
    exact = true_gen_error(w, mu, mu_hat, sigma, n)
    se = np.sqrt(simulated.var(ddof=1) / reps + exact.var(ddof=1) / reps)
    assert abs(simulated.mean() - exact.mean()) <= 3 * se
    assert exact.mean() > 5 * exact.std(ddof=1) / np.sqrt(reps)  # a real, resolved overfitting gap


def test_w1_1d_is_the_quantile_integral() -> None:
    for ma, sa, mb, sb in [(0.3, 1.0, -0.2, 1.4), (0.0, 2.0, 0.0, 1.0), (1.0, 0.5, 0.2, 0.5)]:
        u = np.linspace(0, 1, 400001)[1:-1]
        direct = integrate.trapezoid(np.abs(stats.norm.ppf(u, ma, sa) - stats.norm.ppf(u, mb, sb)), u)
        got = gaussian_w1_1d(np.array([ma]), sa, np.array([mb]), sb)[0]
        assert got == pytest.approx(direct, rel=1e-3)
        rng = np.random.default_rng(0)
        sample = stats.wasserstein_distance(rng.normal(ma, sa, 200000), rng.normal(mb, sb, 200000))
        assert got == pytest.approx(sample, abs=0.02)


def test_w2_closed_form_matches_frechet_distance() -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3, 5))
    m1, m0, c, sigma = rng.standard_normal(5), rng.standard_normal(5), 0.9, 1.2
    cov = sigma**2 * a @ a.T
    frechet = frechet_distance_from_stats(a @ m1, c * cov, a @ m0, cov)  # = W2² between Gaussians
    shift = a @ (m1 - m0)
    got = gaussian_w2_proportional(shift @ shift, np.trace(cov), c)
    assert got**2 == pytest.approx(frechet, rel=1e-6)


def test_expected_ramp_matches_quadrature() -> None:
    margin = 0.5
    ramp = lambda m: np.clip((margin - m) / (2 * margin), 0.0, 1.0)  # noqa: E731
    for mean, std in [(0.3, 1.0), (-1.0, 0.4), (2.0, 2.0)]:
        direct = integrate.quad(
            lambda m, mean=mean, std=std: ramp(m) * stats.norm.pdf(m, mean, std),
            mean - 12 * std,
            mean + 12 * std,
            limit=200,
            points=[-margin, margin],
        )[0]
        assert expected_ramp(np.array([mean]), std, margin)[0] == pytest.approx(direct, abs=1e-8)


def _brute_force_pushforward(support, weight, probs_in, p):
    """PK by an explicit loop over inputs and masks (independent of the vectorised kernel)."""
    out: dict[tuple, float] = {}
    for t, pt in zip(support, probs_in):
        for mask in itertools.product((0.0, 1.0), repeat=len(t)):
            prob = np.prod([(1 - p) if m else p for m in mask])
            key = tuple(np.round(np.tanh(weight @ (np.array(mask) * t)), 10) + 0.0)
            out[key] = out.get(key, 0.0) + pt * prob
    return out


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_contraction_attains_eta_exactly(p: float) -> None:
    rng = np.random.default_rng(11)
    support, weight = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    kernel, points = dropout_kernel(support, weight, p)
    pp, qq = random_pairs(rng, 50, 5)
    brute_p, brute_q = _brute_force_pushforward(support, weight, pp[0], p), _brute_force_pushforward(support, weight, qq[0], p)
    keys = [tuple(np.round(pt, 10) + 0.0) for pt in points]
    np.testing.assert_allclose(pp[0] @ kernel, [brute_p[k] for k in keys], atol=1e-14)
    ratio_brute = sum(v * np.log(v / brute_q[k]) for k, v in brute_p.items()) / kl(pp[0], qq[0])
    ratios = contraction_ratios(kernel, (pp, qq))
    assert ratios[0] == pytest.approx(ratio_brute, rel=1e-10)
    np.testing.assert_allclose(ratios, dropout_eta(p, 3), rtol=1e-9)  # protocol: 0.992, 0.875, 0.488


def test_binary_inputs_contract_strictly_more() -> None:
    rng = np.random.default_rng(12)
    support = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))
    kernel, _ = dropout_kernel(support, rng.standard_normal((2, 3)), 0.5)
    ratios = contraction_ratios(kernel, random_pairs(rng, 200, 8))
    assert ratios.max() < dropout_eta(0.5, 3) - 1e-3


def test_dropconnect_contraction_bounded_and_attained() -> None:
    rng = np.random.default_rng(13)
    kernel, _ = dropconnect_kernel(rng.standard_normal((4, 2)), rng.standard_normal((2, 2)), 0.6)
    ratios = contraction_ratios(kernel, random_pairs(rng, 100, 4))
    np.testing.assert_allclose(ratios, dropconnect_eta(0.6, 2, 2), rtol=1e-9)


def test_noise_eta_is_the_sup_tv_and_bounds_the_kl_ratio() -> None:
    beta, d_out = 0.8, 1
    a, b = -1.0, 1.0  # the farthest pair of bounded activations
    tv = 0.5 * integrate.quad(lambda y: abs(stats.norm.pdf(y, a, beta) - stats.norm.pdf(y, b, beta)), -20, 20, points=[0])[0]
    assert noise_eta(beta, d_out) == pytest.approx(tv, abs=1e-9)
    rng = np.random.default_rng(14)
    centres = np.tanh(rng.standard_normal((5, 1)) * 2)
    pairs = random_pairs(rng, 20, 5)
    got = noise_mixture_kl(centres, pairs, beta)
    grid = np.linspace(-12, 12, 200001)
    dens = stats.norm.pdf(grid[None, :], centres, beta)
    mix_p, mix_q = pairs[0] @ dens, pairs[1] @ dens
    direct = integrate.trapezoid(mix_p * np.log(mix_p / mix_q), grid, axis=-1)
    np.testing.assert_allclose(got, direct, rtol=1e-6)
    assert (got / kl(*pairs)).max() <= noise_eta(beta, d_out)


def test_evaluate_point_bounds_hold_and_chunking_is_invisible() -> None:
    d, n = 8, 30
    net = make_network("bottleneck_expand", d, *ARCHS["bottleneck_expand"], seed=0)
    one = evaluate_point(net, _mu(d), 1.0, n, 600, 0.5, np.random.default_rng(9))
    chunked = evaluate_point(net, _mu(d), 1.0, n, 600, 0.5, np.random.default_rng(9), chunk_elements=(8 + 8) * 50)
    assert one["gen_mean"] == pytest.approx(chunked["gen_mean"], rel=1e-12)
    for layer in one["layers"]:
        assert layer["kl_pointwise_slack_min"] >= 0 and layer["w_pointwise_slack_min"] >= 0
        assert layer["kl_joint"] >= layer["kl_perw"] - 1e-12  # Jensen
    assert one["kl_max_increase"] <= 1e-9


def _config(scale: str) -> dict:
    section = {"it_bounds": yaml.safe_load((ROOT / "config.yaml").read_text())["it_bounds"]}
    return resolve_paper({"scale": scale, **section}, "it_bounds")


@pytest.mark.parametrize("scale", ["smoke", "default", "paper"])
def test_config_validates_and_spec_is_consistent(scale: str) -> None:
    import jsonschema

    cfg = _config(scale)
    jsonschema.Draft202012Validator(load_schema(ROOT / "workflow/schemas/it_bounds.schema.yaml")).validate(cfg)
    report_inputs = spec.inputs(cfg, "report", {})
    assert (
        len(report_inputs)
        == len(set(report_inputs))
        == len(cfg["architectures"]) * len(cfg["dims"]) * len(cfg["ns"])
        + 4
        + len(cfg["gibbs"]["networks"])
        + int(cfg["crosscheck"]["enabled"])
    )
    job = spec.job_config(cfg, "bounds", {"arch": "deep_narrow", "d": str(cfg["dims"][0])})
    assert "sdpi" not in job and job["architecture"] == cfg["architectures"]["deep_narrow"]


def test_bounds_claim_fails_when_a_bound_is_below_the_error() -> None:
    layer = {
        "layer": 0,
        "width": 4,
        "rank_min": 4,
        "rank_max": 4,
        "D_mean": 0.01,
        "D_se": 0.001,
        "kl_joint": 0.05,
        "kl_joint_se": 0.001,
        "kl_perw": 0.04,
        "kl_perw_se": 0.001,
        "w1": 0.1,
        "w1_lower": 0.05,
        "w1_exact": False,
        "w_bound": 0.2,
        "w_bound_se": 0.01,
        "kl_pointwise_slack_min": 0.0,
        "w_pointwise_slack_min": 0.0,
    }
    runs = pd.DataFrame(
        [
            {
                "kind": "bounds",
                "arch": "a",
                "d": 4,
                "n": 10,
                "n_layers": 1,
                "gen_mean": 0.1,
                "gen_se": 0.001,
                "gen_abs_mean": 0.1,
                "ramp_gen_mean": 0.1,
                "ramp_gen_se": 0.001,
                "d0_closed_form": 0.01,
                "kl_max_increase": 0.0,
                "layers": [layer, {**layer, "layer": 1}],
            }
        ]
    )
    cfg = _config("default")["claims"]
    claim = next(c for c in claims({"claims": cfg}) if c.id == "bounds_hold")
    outcome = claim.evaluate(runs)
    assert outcome.passed is False and outcome.measured < -3


@pytest.mark.parametrize("arch", sorted(ARCHS))
@pytest.mark.parametrize("d", [6, 20])
def test_factored_path_equals_dense_path(arch: str, d: int) -> None:
    """The O(width·d) rank-one factorisation gives the dense maps' projections, ranks, shifts, traces and readouts."""
    n, sigma = 15, 1.0
    mu = _mu(d)
    net = make_network(arch, d, *ARCHS[arch], seed=8)
    mu_hat = mu + sigma / np.sqrt(n) * np.random.default_rng(3).standard_normal((7, d))
    maps, readouts = layer_maps(net, mu_hat)
    dense_kl, dense_rank = kl_per_layer(mu_hat, mu, sigma, n, maps)
    q = factored_quantities(FactoredNetwork.build(net), mu, mu_hat)
    np.testing.assert_array_equal(q["rank"], dense_rank)
    np.testing.assert_allclose(kl_from_projection(q["proj"], q["rank"], sigma, n), dense_kl, rtol=1e-8, atol=1e-12)
    delta = mu_hat - mu
    np.testing.assert_allclose(
        q["shift_sq"], np.stack([((a @ delta[..., None])[..., 0] ** 2).sum(1) for a in maps], 1), rtol=1e-9
    )
    np.testing.assert_allclose(q["trace"], np.stack([np.broadcast_to((a**2).sum((1, 2)), (7,)) for a in maps], 1), rtol=1e-9)
    np.testing.assert_allclose(q["readout_norm"], np.stack([np.linalg.norm(u, axis=1) for u in readouts], 1), rtol=1e-9)
    np.testing.assert_allclose(q["w"], readouts[0], rtol=1e-9)


def test_gibbs_exact_error_matches_simulated_training_sets() -> None:
    """The enumerated E[gen] of the Gibbs posterior against training sets drawn at random, posterior exact per set."""
    from paperdag.papers.it_bounds.gibbs import gibbs_point, hypothesis_classes, losses, representation_laws

    widths, points, labels, noise, p, n, gamma = (
        [3, 2, 1],
        np.array([[1.0, 1, 1], [1, -1, -1]]),
        np.array([1.0, -1]),
        0.1,
        0.2,
        6,
        10.0,
    )
    laws = representation_laws(widths, points, p)
    groups = hypothesis_classes(laws)
    exact = gibbs_point(widths, laws, groups, labels, noise, p, n, gamma)
    classes, _, sizes = groups
    rng = np.random.default_rng(0)
    reps = 40000
    x = rng.integers(0, 2, (reps, n))
    y_pos = rng.random((reps, n)) < np.where(labels[x] > 0, 1 - noise, noise)  # Y = +1
    cell = 2 * x + y_pos  # (x, y-index) flattened
    counts = np.stack([(cell == k).sum(1) for k in range(4)], 1)
    loss = losses(classes).reshape(len(classes), 4)  # [x, y] flattened like `cell`
    train = counts @ loss.T / n
    p_pos = np.where(labels > 0, 1 - noise, noise)
    p_z = (0.5 * np.stack([1 - p_pos, p_pos], 1)).ravel()
    logits = np.log(sizes) - gamma * train
    post = np.exp(logits - logits.max(1, keepdims=True))
    post /= post.sum(1, keepdims=True)
    gen_s = (post * (loss @ p_z - train)).sum(1)
    assert abs(gen_s.mean() - exact["gen"]) <= 4 * gen_s.std() / np.sqrt(reps)
    assert exact["gen"] == pytest.approx(exact["gen_from_losses"], rel=1e-9)
    assert all(b >= abs(exact["gen"]) for b in exact["bound"]) and np.all(np.diff(exact["D"]) <= 1e-15)


def test_gibbs_representation_laws_match_simulated_dropout() -> None:
    from paperdag.papers.it_bounds.gibbs import _binary_configs, _state_index, representation_laws

    widths, points, p = [3, 2, 2, 1], np.array([[1.0, 1, 1], [1, -1, -1]]), 0.3
    laws = representation_laws(widths, points, p)
    rng = np.random.default_rng(1)
    h = 2345  # one hypothesis: its per-layer weights from the product order (layer 1 slowest)
    sizes = [2 ** (a * b) for a, b in zip(widths[:-1], widths[1:])]
    idx = np.unravel_index(h, sizes)
    weights = [_binary_configs((b, a))[i] for (a, b), i in zip(zip(widths[:-1], widths[1:]), idx)]
    reps = 200000
    for x in range(2):
        t = np.broadcast_to(points[x], (reps, 3))
        for layer, w in enumerate(weights):
            t = np.sign((t * (rng.random(t.shape) > p)) @ w.T)
            freq = np.bincount(_state_index(t), minlength=laws[layer].shape[2]) / reps
            assert np.abs(freq - laws[layer][h, x]).max() < 0.005
