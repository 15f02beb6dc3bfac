"""conservative_id_better can go either way: it passes when the adequately trained conservative model
wins, fails when the kinds are exchanged (its control), and is inconclusive when the judged model has not
learned the manifolds' curved normals (issue 22). Also the normal ratio itself, on exact and flat scores."""

from __future__ import annotations

import pandas as pd
import torch

from paperdag.claims import CAUGHT, FAIL, INCONCLUSIVE, PASS, evaluate_claim
from paperdag.papers.gauge_freedom.analytic import Manifold, rms_radius
from paperdag.papers.gauge_freedom.claims import claims
from paperdag.papers.gauge_freedom.estimators import centred_spectra, normal_ratio, perturb

MANIFOLDS = ("sphere", "swiss_roll", "torus")


def _runs(shares: dict[str, dict[str, float]], ratios: dict[str, dict[str, float]], seeds=(0, 1, 2)) -> pd.DataFrame:
    """Trained runs as the train stage writes them: per manifold, kind and seed, σ* ID entries and a normal ratio."""
    rows = []
    for manifold in MANIFOLDS:
        for kind in ("conservative", "unconstrained"):
            for seed in seeds:
                share = min(1.0, max(0.0, shares[kind][manifold] + 0.02 * (seed - 1)))
                entries = [
                    {"rule": rule, "is_sigma_star": True, "share_exact": share, "sigma_factor": 0.05, "variant": "trained"}
                    for rule in ("gap", "log_gap")
                ]
                rows.append(
                    {
                        "run_type": "trained",
                        "manifold": manifold,
                        "model": kind,
                        "seed": seed,
                        "k": 2,
                        "id": entries,
                        "normal_ratio": ratios[kind][manifold],
                        "normal_ratio_exact": 0.6,
                    }
                )
    return pd.DataFrame(rows)


GOOD = {
    "conservative": {"sphere": 0.9, "swiss_roll": 0.7, "torus": 0.8},
    "unconstrained": {"sphere": 0.1, "swiss_roll": 0.3, "torus": 0.9},
}
ADEQUATE = {kind: dict.fromkeys(MANIFOLDS, 0.55) for kind in GOOD}


def _claim():
    cfg = {
        "gmm": {"c_values": [1], "moment_tolerance": 0.05, "loglik_control_scale": 0.1},
        "id": {"adequacy": 0.3},
        "control_normal_scale": 0.3,
    }
    return next(c for c in claims(cfg) if c.id == "conservative_id_better")


def test_conservative_wins_on_two_manifolds_and_the_exchanged_kinds_are_caught():
    result = evaluate_claim(_claim(), _runs(GOOD, ADEQUATE), "default")
    assert result.status == PASS, result.detail
    assert result.negative_control["status"] == CAUGHT


def test_it_can_fail():
    equal = {"conservative": GOOD["conservative"], "unconstrained": GOOD["conservative"]}
    assert evaluate_claim(_claim(), _runs(equal, ADEQUATE), "default").status == FAIL


def test_an_inadequate_conservative_model_makes_it_inconclusive():
    ratios = {"conservative": {"sphere": 0.5, "swiss_roll": 0.05, "torus": 0.09}, "unconstrained": ADEQUATE["unconstrained"]}
    assert evaluate_claim(_claim(), _runs(GOOD, ratios), "default").status == INCONCLUSIVE


def test_normal_ratio_separates_the_exact_score_from_one_that_learned_only_the_span():
    for name in ("sphere", "torus"):
        m = Manifold(name, 10, 0)
        sigma = 0.05 * rms_radius(m.sample(5000, 0))
        pts = perturb(torch.as_tensor(m.sample(20, 1)), sigma, 40, torch.Generator().manual_seed(2))
        u = torch.as_tensor(m.rotation)[:, : m.native]
        span_only = -(pts - pts @ u @ u.T) / sigma**2 + 1e-3 * torch.randn(
            pts.shape, generator=torch.Generator().manual_seed(3), dtype=pts.dtype
        )
        exact = normal_ratio(centred_spectra(m.exact_score(pts, sigma)), m.k, m.native).mean()
        flat = normal_ratio(centred_spectra(span_only), m.k, m.native).mean()
        assert 0.4 < exact < 0.8 and flat < 0.01, (name, exact, flat)
