"""Figure 5 measures: the ODE end points' distance to the manifold, and the reported outcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from paperdag.papers.gauge_freedom.analytic import Manifold, normal_damped
from paperdag.papers.gauge_freedom.claims import figure5_trajectories
from paperdag.papers.gauge_freedom.estimators import distance_to_set, flow_jacobian_trajectory, sample_ode


def test_distance_to_a_dense_sample_is_the_distance_to_the_sphere():
    m = Manifold("sphere", 3, 0)
    ref = torch.as_tensor(m.sample(50_000, seed=1))
    x = torch.randn(64, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    exact = (x.norm(dim=-1) - 1).abs().numpy()
    assert np.allclose(distance_to_set(x, ref), exact, atol=0.03)


def test_exact_ode_lands_on_the_sphere_and_a_weak_normal_score_does_not():
    """The measure passes the exact score (end points within a few σ_min of S²) and catches its control."""
    m = Manifold("sphere", 5, 0)
    ref = torch.as_tensor(m.sample(50_000, seed=1))
    x1 = 4.0 * torch.randn(32, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    exact_end = sample_ode(m.exact_score, x1, 4.0, 0.01, 60)
    weak_end = sample_ode(normal_damped(m, m.exact_score, 0.3), x1, 4.0, 0.01, 60)
    assert np.median(distance_to_set(exact_end, ref)) < 0.05
    assert np.median(distance_to_set(weak_end, ref)) > 0.2


def test_flow_jacobian_end_points_are_the_ode_samples():
    m = Manifold("sphere", 3, 0)
    x1 = 4.0 * torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    _, svs, ends = flow_jacobian_trajectory(m.exact_score, x1, 4.0, 0.01, 30, 5, with_end=True)
    assert svs.shape == (4, 6, 3)
    assert torch.allclose(ends, sample_ode(m.exact_score, x1, 4.0, 0.01, 30), atol=1e-8)


def test_figure5_outcome_reports_each_kind_beside_the_exact_reference():
    rows = [
        {
            "run_type": "figure5",
            "manifold": "sphere",
            "ambient_dim": 3,
            "model": kind,
            "distance_median": d,
            "traj_share_k": 1.0,
            "exact_draws_distance_median": 0.009,
            "exact_ode_distance_median": 0.01,
        }
        for kind, d in (("conservative", 0.05), ("unconstrained", 0.2))
    ]
    out = figure5_trajectories(pd.DataFrame(rows))
    assert out.passed is None
    assert (
        "conservative 0.050" in out.measured and "unconstrained 0.200" in out.measured and "exact-score ODE 0.010" in out.measured
    )
