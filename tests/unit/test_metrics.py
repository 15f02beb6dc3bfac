"""The shared metrics: Fréchet distance (both paths) and its input checks."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from paperdag.metrics import frechet_distance, frechet_distance_from_stats, gaussian_stats


def test_frechet_distance_from_stats_closed_form_gaussians() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = a @ a.T + np.eye(5), b @ b.T + np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    r1 = linalg.sqrtm(s1).real
    exact = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * linalg.sqrtm(r1 @ s2 @ r1).real)
    assert frechet_distance_from_stats(mu1, s1, mu2, s2) == pytest.approx(exact, rel=1e-6)
    d1, d2 = np.array([1.0, 4.0]), np.array([9.0, 1.0])  # commuting case: Σ (√a − √b)²
    assert frechet_distance_from_stats(np.zeros(2), np.diag(d1), np.ones(2), np.diag(d2)) == pytest.approx(2 + 4 + 1)


def test_frechet_distance_low_rank_path_equals_sqrtm_path() -> None:
    """Few samples (n ≤ d) take the SVD path; it must equal the sqrtm of the fitted covariances."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(20, 50)), rng.normal(size=(24, 50)) * 1.5 + 0.3
    via_stats = frechet_distance_from_stats(*gaussian_stats(x), *gaussian_stats(y))
    assert frechet_distance(x, y) == pytest.approx(via_stats, rel=1e-4)


def test_frechet_distance_of_features_many_samples() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4000, 3))
    y = rng.normal(size=(4000, 3)) * 2.0 + 1.0  # N(1, 4I): FD = 3·1 + 3·(1 + 4 − 2·2) = 6
    assert frechet_distance(x, y) == pytest.approx(6.0, rel=0.05)
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="same d"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
