"""The `gda` claims and spec on hand-made run tables: they pass, fail and go unevaluated when they should."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from paperdag.claims import evaluate_claims
from paperdag.config import deep_merge
from paperdag.papers.gda import spec
from paperdag.papers.gda.claims import claims, gain_grows_with_d, high_d_reduction, no_faster_rate, plateau_in_gamma

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())["gda"]


def _runs(rows: list[tuple[str, int, int, int, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"experiment": "bgmm", "panel": p, "d": d, "m": m, "gamma": g, "gap_mean": v, "test_err_mean": 0.1}
            for p, d, m, g, v in rows
        ]
    )


def test_slope_claim_fails_when_augmentation_changes_the_rate() -> None:
    ms = [20, 50, 100, 200, 500]
    same = _runs([("m_sweep", 1, m, g, 0.6 * m**-0.5) for m in ms for g in (0, 10)])
    faster = _runs([("m_sweep", 1, m, g, 0.6 * m ** (-0.5 if g == 0 else -0.8)) for m in ms for g in (0, 10)])
    assert no_faster_rate(same).passed and no_faster_rate(same).measured == pytest.approx(0, abs=1e-12)
    out = no_faster_rate(faster)
    assert not out.passed and out.measured == pytest.approx(0.3)


def test_high_d_plateau_and_gain_claims() -> None:
    curve = [5.0, 4.0, 3.0, 2.0, 1.8, 1.7, 1.65, 1.6]
    gammas = [0, 1, 2, 5, 10, 20, 50, 100]
    runs = _runs(
        [("gamma_sweep", 50, 10, g, v) for g, v in zip(gammas, curve)]
        + [
            ("d_sweep", d, 10, g, v)
            for d, v0, v50 in ((10, 1.0, 0.7), (20, 2.0, 1.0), (50, 5.0, 1.4))
            for g, v in ((0, v0), (50, v50))
        ]
    )
    assert plateau_in_gamma(runs).passed and high_d_reduction(runs).passed and gain_grows_with_d(runs).passed
    bumpy = _runs([("gamma_sweep", 50, 10, g, v) for g, v in zip(gammas, curve[:-1] + [1.3])])
    assert not plateau_in_gamma(bumpy).passed  # last two points 1.65 → 1.3: no plateau
    weak = _runs([("d_sweep", d, 10, g, v) for d, v0, v50 in ((20, 2.0, 1.5), (50, 5.0, 4.5)) for g, v in ((0, v0), (50, v50))])
    assert not high_d_reduction(weak).passed and not gain_grows_with_d(weak).passed


def test_missing_panels_are_not_evaluated_never_passed() -> None:
    runs = _runs([("d_sweep", 10, 10, g, v) for g, v in ((0, 1.0), (10, 0.7))])
    runs["gap_se"] = 0.01 * runs["gap_mean"]
    cfg = {"claims": CONFIG["base"]["claims"]}
    results = {r.id: r.status for r in evaluate_claims(claims(cfg), runs, "default")}
    assert results["no_faster_rate"] == results["plateau_in_gamma"] == results["digits_gap_shrinks_cgan"] == "not evaluated"
    assert results["largest_d_gap_reduced"] == "pass"
    assert {r.status for r in evaluate_claims(claims(cfg), runs, "paper") if r.id.startswith("cifar")} == {"not evaluated"}


@pytest.mark.parametrize("scale", ["smoke", "default", "paper"])
def test_spec_outputs_inputs_and_job_config(scale: str) -> None:
    cfg = deep_merge(CONFIG["base"], CONFIG.get(scale))
    sim = spec.outputs(cfg, "simulate", {})
    assert len(sim) == len(set(sim)) == len(spec.sim_cells(cfg))
    groups = spec.groups(cfg, "augment")
    assert [g["dataset"] for g in groups] == cfg["digits"]["datasets"]
    n_digits = (
        len(cfg["digits"]["seeds"])
        * len(cfg["digits"]["sizes"])
        * (1 + len(cfg["digits"]["generators"]) * (len(cfg["digits"]["gammas"]) - 1))
    )
    assert len(spec.outputs(cfg, "augment", {})) == n_digits
    n_cifar = len(spec.cifar_cells(cfg))  # paper scale only: 2 augmentations × (m_G = 0 + 5 cDCGAN sizes)
    assert n_cifar == (12 if scale == "paper" else 0)
    assert len(spec.inputs(cfg, "report", {})) == len(sim) + n_digits * len(groups) + n_cifar
    assert set(spec.job_config(cfg, "simulate", {})) == {"simulation"}
    if groups:
        job = spec.job_config(cfg, "augment", groups[0])
        assert job["dataset"] == groups[0]["dataset"] and "datasets" not in job["digits"]
