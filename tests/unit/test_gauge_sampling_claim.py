"""The gauge sampling check resolves wrong samplers: it passes exact draws and rejects a mixture
whose components are 15% too wide or wrongly weighted (issue 22), with real samples."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from paperdag.claims import CAUGHT, FAIL, INCONCLUSIVE, PASS, evaluate_claim
from paperdag.papers.gauge_freedom.analytic import GaussianMixture
from paperdag.papers.gauge_freedom.claims import claims, gauge_sampling_moments, wrong_sampler

MIX = GaussianMixture(((-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)), (0.4, 0.4, 0.6), (0.3, 0.3, 0.4))
SIGMA, N, TOL = 0.01, 2000, 0.05


def _runs(sampler: GaussianMixture, seeds: range = range(5)) -> pd.DataFrame:
    """gmm runs as the analytic stage writes them; the 'c1' sampler draws from `sampler`."""
    variants = {"truth": MIX, "wider": MIX.widened(1.15), "reweighted": MIX.reweighted((0.36, 0.24, 0.40)), "c1": sampler}
    rows = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        for name, mix in variants.items():
            err = MIX.mode_moment_error(mix.sample(N, SIGMA, gen), SIGMA)
            rows.append({"run_type": "gmm", "variant": name, "seed": seed, "mode_moment_error": err})
    return pd.DataFrame(rows)


def _claim():
    cfg = {
        "gmm": {"c_values": [1], "moment_tolerance": TOL, "loglik_control_scale": 0.1},
        "id": {"adequacy": 0.3},
        "control_normal_scale": 0.3,
    }
    return next(c for c in claims(cfg) if c.id == "gauge_sampling_moments")


def test_exact_sampler_passes_and_its_control_is_caught():
    result = evaluate_claim(_claim(), _runs(MIX), "default")
    assert result.status == PASS, result.detail
    assert result.negative_control["status"] == CAUGHT


@pytest.mark.parametrize("wrong", [MIX.widened(1.15), MIX.reweighted((0.36, 0.24, 0.40))])
def test_wrong_samplers_fail(wrong):
    assert evaluate_claim(_claim(), _runs(wrong), "default").status == FAIL


def test_control_replaces_every_sampler_by_the_wrong_draws():
    runs = _runs(MIX)
    swapped = wrong_sampler("wider", runs)
    assert gauge_sampling_moments(TOL, swapped).passed is False
    c1 = swapped[swapped["variant"] == "c1"].set_index("seed")["mode_moment_error"]
    wider = runs[runs["variant"] == "wider"].set_index("seed")["mode_moment_error"]
    assert c1.equals(wider)


def test_too_few_samples_make_it_inconclusive():
    noisy = _runs(MIX, range(2))
    noisy.loc[(noisy["variant"] == "truth") & (noisy["seed"] == 0), "mode_moment_error"] += 0.1
    assert evaluate_claim(_claim(), noisy, "default").status == INCONCLUSIVE
