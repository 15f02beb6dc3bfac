"""The four asserted toy claims of f-distill: each passes on good runs, fails on its negative control
(reverse-KL's own runs with seeds rotated for "beats"; the challenger's students collapsed onto their
heaviest modes for "not worse"), and is inconclusive when a compared student is still moving or the
difference is below the metric's data-vs-data floor. The collapse itself is checked on real samples."""

from __future__ import annotations

import pandas as pd
import torch
import yaml

from paperdag.claims import CAUGHT, FAIL, INCONCLUSIVE, PASS, evaluate_claims
from paperdag.config import resolve_paper
from paperdag.papers.f_distill.claims import claims
from paperdag.papers.f_distill.toy import ToyEvaluator, collapsed, mixture, sample_mixture
from paperdag.stage import PROJECT_ROOT

CFG = resolve_paper(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()), "f_distill", "default")
STEPS = [0, 500, 1000, 2000, 2400, 3000]
TOY = ("toy_kl_beats_rkl_tv_every_seed", "toy_kl_beats_rkl_mean_fd", "toy_kl_not_worse_than_rkl", "toy_js_not_worse_than_rkl")
FLOORS = dict(floor_fd=0.03, floor_tv=0.02, floor_recall_gap=0.025)


def _trajectory(final: float, moving: bool) -> list[float]:
    tail = [final * 3, final] if moving else [final * 1.02, final]
    return [15.0, 3.0, 1.0, final * 1.5, *tail]


def toy_runs(values: dict[str, dict[str, list[float]]], moving: str = "") -> pd.DataFrame:
    """values[div][metric] = per-seed final values; collapsed_* are a student that kept 4 of 8 modes."""
    rows = []
    for div, metrics in values.items():
        for seed in range(3):
            final = {m: v[seed] for m, v in metrics.items()}
            rows.append(
                dict(
                    task="toy",
                    init="normal",
                    divergence=div,
                    seed=seed,
                    **final,
                    eval_steps=STEPS,
                    trajectory={m: _trajectory(v, div == moving) for m, v in final.items()},
                    collapsed_fd=final["fd"] + 1.5,
                    collapsed_tv=final["tv"] + 0.2,
                    collapsed_recall=final["recall"] - 0.2,
                    **FLOORS,
                )
            )
    return pd.DataFrame(rows)


GOOD = {
    "kl": {"fd": [0.04, 0.08, 0.02], "tv": [0.06, 0.12, 0.06], "recall": [0.97, 0.97, 0.98]},
    "js": {"fd": [0.11, 0.03, 0.06], "tv": [0.09, 0.07, 0.09], "recall": [0.97, 0.97, 0.97]},
    "rkl": {"fd": [0.11, 0.16, 0.07], "tv": [0.14, 0.16, 0.12], "recall": [0.93, 0.94, 0.93]},
}


def results(runs: pd.DataFrame) -> dict:
    return {r.id: r for r in evaluate_claims(claims(CFG), runs, "default")}


def test_toy_claims_pass_on_good_runs_and_catch_their_controls() -> None:
    r = results(toy_runs(GOOD))
    for cid in TOY:
        assert r[cid].status == PASS, (cid, r[cid].detail, r[cid].gates)
        assert r[cid].negative_control["status"] == CAUGHT, (cid, r[cid].negative_control)
        assert all(g["status"] == PASS for g in r[cid].gates), (cid, r[cid].gates)


def test_beats_claims_fail_when_kl_is_worse_in_one_seed_or_on_average() -> None:
    worse = {**GOOD, "kl": {**GOOD["kl"], "tv": [0.06, 0.17, 0.06], "fd": [0.2, 0.25, 0.15]}}
    r = results(toy_runs(worse))
    assert r["toy_kl_beats_rkl_tv_every_seed"].status == FAIL, r["toy_kl_beats_rkl_tv_every_seed"].gates
    assert r["toy_kl_beats_rkl_mean_fd"].status == FAIL, r["toy_kl_beats_rkl_mean_fd"].gates


def test_mean_fd_needs_a_margin_of_one_standard_error() -> None:
    noisy = {**GOOD, "kl": {**GOOD["kl"], "fd": [0.01, 0.21, 0.0]}}  # mean lower by 0.04 > floor, but se 0.046
    r = results(toy_runs(noisy))["toy_kl_beats_rkl_mean_fd"]
    assert r.status == FAIL and r.margin_se < 1, (r.detail, r.gates)


def test_not_worse_fails_on_a_mode_dropping_challenger() -> None:
    bad = {**GOOD, "js": {"fd": [1.5, 1.6, 1.4], "tv": [0.3, 0.3, 0.3], "recall": [0.7, 0.7, 0.7]}}
    assert results(toy_runs(bad))["toy_js_not_worse_than_rkl"].status == FAIL


def test_unconverged_students_make_the_toy_claims_inconclusive() -> None:
    r = results(toy_runs(GOOD, moving="kl"))
    for cid in ("toy_kl_beats_rkl_tv_every_seed", "toy_kl_beats_rkl_mean_fd", "toy_kl_not_worse_than_rkl"):
        assert r[cid].status == INCONCLUSIVE, (cid, r[cid].gates)
    assert r["toy_js_not_worse_than_rkl"].status == PASS


def test_a_difference_below_the_floor_is_inconclusive() -> None:
    close = {**GOOD, "kl": {**GOOD["kl"], "tv": [0.13, 0.15, 0.11]}}
    r = results(toy_runs(close))["toy_kl_beats_rkl_tv_every_seed"]
    assert r.status == INCONCLUSIVE and [g["status"] for g in r.gates] == [PASS, FAIL], r.gates


def test_collapse_keeps_the_heaviest_modes_and_worsens_coverage_metrics() -> None:
    means, weights = mixture(8, 4.0)
    g = torch.Generator().manual_seed(0)
    x = torch.stack([sample_mixture(means, weights, 0.25, 3000, g) for _ in range(2)])
    reference = sample_mixture(means, weights, 0.25, 1000, g)
    ev = ToyEvaluator(means, weights, reference, k=3, sinkhorn_blur=0.05)
    good, bad = ev(x[:, :1000]), ev(collapsed(x, means, weights, 4, 1000))
    assert bool((bad["coverage"] == 4).all()) and bool((good["coverage"] == 8).all())
    assert bool((bad["tv"] > good["tv"] + 0.15).all()) and bool((bad["recall"] < good["recall"] - 0.1).all())
    assert bool((bad["fd"] > good["fd"]).all())
