"""The bGMM pieces of `gda` against independent computations (scikit-learn, scipy, closed forms)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.naive_bayes import GaussianNB

from paperdag.papers.gda import simulate_gap
from paperdag.papers.gda.bgmm import (
    balanced_labels,
    class_means,
    fit_naive_bayes,
    loglog_slope,
    mean_classifier,
    nll,
    sample_blobs,
    simulate_cell,
    theory_bound,
    zero_one,
)


def test_naive_bayes_matches_sklearn_statistics() -> None:
    rng = np.random.default_rng(0)
    x, y = sample_blobs(rng, 31, class_means(5), 0.6)  # odd n: unequal priors 16/15
    means, pooled = fit_naive_bayes(x, y)
    ref = GaussianNB(var_smoothing=0.0).fit(x, y)
    np.testing.assert_allclose(means, ref.theta_, rtol=1e-12)
    counts = ref.class_count_[:, None]
    ddof1 = ref.var_ * counts / (counts - 1) + 1e-9  # sklearn uses ddof = 0
    np.testing.assert_allclose(pooled, (ref.class_prior_[:, None] * ddof1).sum(0), rtol=1e-10)


def test_naive_bayes_batched_equals_per_repeat() -> None:
    rng = np.random.default_rng(1)
    y = balanced_labels(12)
    xs = np.stack([sample_blobs(rng, 12, class_means(3), 0.6)[0] for _ in range(4)])
    means, pooled = fit_naive_bayes(xs, y)
    for r in range(4):
        m_r, p_r = fit_naive_bayes(xs[r], y)
        np.testing.assert_allclose(means[r], m_r)
        np.testing.assert_allclose(pooled[r], p_r)


def test_mean_classifier_minimises_nll_numerically() -> None:
    rng = np.random.default_rng(2)
    x, y = sample_blobs(rng, 40, class_means(4), 0.6)
    theta = mean_classifier(x, y)
    res = minimize(lambda t: float(nll(t, x, y, 0.6)), np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(theta, res.x, atol=1e-6)
    assert float(nll(theta, x, y, 0.6)) <= res.fun + 1e-12


def test_nll_and_zero_one_by_hand() -> None:
    x = np.array([[1.0, 0.0], [-2.0, 1.0], [0.5, -0.5]])
    y = np.array([1, 0, 0])
    theta = np.array([1.0, 1.0])
    by_hand = (1.0 + (1.0 + 4.0) + (1.5**2 + 0.5**2)) / (2 * 0.36 * 3)  # residuals [0,−1], [−1,2], [1.5,0.5]
    assert float(nll(theta, x, y, 0.6)) == pytest.approx(by_hand)
    assert float(zero_one(theta, x, y)) == pytest.approx(1 / 3)  # θᵀx = 1, −1, 0 → predicts 1, 0, 1


def test_generated_sets_are_balanced_like_make_blobs() -> None:
    from sklearn.datasets import make_blobs

    for n in (10, 11, 500):
        _, y_ref = make_blobs(n_samples=n, centers=[[0.0], [1.0]], shuffle=False)
        np.testing.assert_array_equal(balanced_labels(n), y_ref)
    rng = np.random.default_rng(3)
    x, y = sample_blobs(rng, 20_000, np.array([[-1.0, 2.0], [3.0, 0.0]]), np.array([0.5, 2.0]))
    assert (y == 0).sum() == (y == 1).sum() == 10_000
    np.testing.assert_allclose(x[y == 1].mean(0), [3.0, 0.0], atol=0.05)
    np.testing.assert_allclose(x[y == 0].std(0), [0.5, 2.0], rtol=0.03)


def test_repeats_are_reproducible_and_independent_of_chunking() -> None:
    a = simulate_cell(5, 10, [0, 3], repeats=12, seed=7, n_test=200)
    b = simulate_cell(5, 10, [0, 3], repeats=12, seed=7, n_test=200, max_floats=1)  # one repeat per chunk
    c = simulate_cell(5, 10, [0, 3], repeats=12, seed=8, n_test=200)
    np.testing.assert_array_equal(a["gap"], b["gap"])
    assert not np.allclose(a["gap"], c["gap"])
    assert len(np.unique(a["gap"][0])) == 12  # repeats differ from one another
    # the real sample is shared across γ: γ = 0 results do not depend on which other γ were run
    np.testing.assert_array_equal(simulate_cell(5, 10, [0], 12, 7, 200)["gap"][0], a["gap"][0])


def test_simulate_gap_matches_direct_computation() -> None:
    mean, se = simulate_gap(d=3, m=8, gamma=0, repeats=6, seed=1, n_test=300)
    gaps = simulate_cell(3, 8, [0], 6, 1, 300)["gap"][0]
    assert mean == pytest.approx(gaps.mean()) and se == pytest.approx(gaps.std(ddof=1) / math.sqrt(6))


def test_gap_expectation_at_gamma0_closed_form() -> None:
    """Without GDA the expected train and test NLLs have closed forms; the simulation must reproduce them."""
    res = simulate_cell(20, 10, [0], repeats=200, seed=0, n_test=500)
    # θ̂ ~ N(μ, σ²/m I): E[test NLL] = (d σ² + d σ²/m)/(2σ²) = d(1 + 1/m)/2, E[train NLL] = d(1 − 1/m)/2
    assert res["test_nll"].mean() == pytest.approx(20 * (1 + 1 / 10) / 2, rel=0.03)
    assert res["train_nll"].mean() == pytest.approx(20 * (1 - 1 / 10) / 2, rel=0.03)


def test_theory_bound_matches_formula() -> None:
    d, m, g = 50, 10, 5
    M, beta = d + math.log(m), (d + math.log(m)) / ((1 + g) * m)
    expected = (g / (1 + g) * M + M * (1 + math.sqrt(g)) / ((1 + g) * math.sqrt(m)) + math.sqrt(g * m) * beta / (1 + g)
                + beta * (math.log(m) + math.log(g * m)) / (1 + g) + math.log(m) * M / (1 + g))
    assert theory_bound(d, m, g) == pytest.approx(expected)
    # γ = 0 drops log(γm); d ≤ 2 uses TV = √(d log d / m), τ = √(γd/m)·log(md)
    assert theory_bound(d, m, 0) == pytest.approx(M / math.sqrt(m) + M / m * math.log(m) + math.log(m) * M)
    tau = math.sqrt(3 * 2 / 40) * math.log(80)
    assert theory_bound(2, 40, 3) > math.log(40) * (2 + math.log(40)) * tau / 4


def test_loglog_slope_of_power_law() -> None:
    m = np.array([20, 50, 100, 200])
    assert loglog_slope(m, 3.0 * m**-0.5) == pytest.approx(-0.5)
