"""Every asserted it_bounds claim passes on real (small) runs and fails on its negative control;
its gates make it inconclusive on runs that cannot decide it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from paperdag.claims import CAUGHT, FAIL, INCONCLUSIVE, PASS, REPORT, evaluate_claims
from paperdag.config import resolve_paper
from paperdag.papers.it_bounds.bounds import evaluate_point
from paperdag.papers.it_bounds.claims import claims
from paperdag.papers.it_bounds.crosscheck import run_crosscheck
from paperdag.papers.it_bounds.gibbs import run_gibbs
from paperdag.papers.it_bounds.sdpi_check import run_sdpi_checks
from paperdag.papers.it_bounds.testbed import class_mean, make_network, network_seed

ROOT = Path(__file__).resolve().parents[2]
SECTION = yaml.safe_load((ROOT / "config.yaml").read_text())["it_bounds"]
CFG = resolve_paper({"scale": "default", "it_bounds": SECTION}, "it_bounds")
SMOKE = resolve_paper({"scale": "smoke", "it_bounds": SECTION}, "it_bounds")
D, NS, DRAWS = 10, [10, 20, 50, 100, 200, 500, 1000, 2000, 5000], 2000
GOOD_ARCHS = ["wide_shallow", "bottleneck_expand", "bottleneck_shrink"]  # deep_narrow's error decays faster than 1/n


def _bounds_runs(archs: list[str]) -> list[dict]:
    rows, mu = [], class_mean(D, CFG["mu_norm"])
    for arch in archs:
        spec = CFG["architectures"][arch]
        net = make_network(arch, D, spec["widths"], spec["gains"], network_seed(0, arch, D))
        for n in NS:
            stats = evaluate_point(net, mu, CFG["sigma"], n, DRAWS, CFG["ramp_margin"], np.random.default_rng([1, n]))
            rows.append({"kind": "bounds", "arch": arch, "d": D, "n": n, **stats})
    return rows


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    sdpi = run_sdpi_checks(SMOKE["sdpi"], 0, SMOKE["architectures"], SMOKE["dims"])
    gibbs = run_gibbs({**CFG["gibbs"], "ns": [10, 30, 100]})
    rows = _bounds_runs(GOOD_ARCHS)
    rows += [{"kind": "sdpi", "channel": ch, "cases": cases} for ch, cases in sdpi.items()]
    rows += [{"kind": "gibbs", "network": net, "points": pts} for net, pts in gibbs.items()]
    rows.append({"kind": "crosscheck", "cases": run_crosscheck(CFG)})
    return pd.DataFrame(rows)


def results(runs: pd.DataFrame, cfg: dict = CFG) -> dict:
    return {r.id: r for r in evaluate_claims(claims(cfg), runs, "default")}


ASSERTED = [
    "bounds_hold",
    "per_w_pointwise",
    "kl_non_increasing",
    "d0_closed_form",
    "output_tightness",
    "tightness_rate",
    "decay_slopes",
    "funnel_bottleneck",
    "sdpi_contraction",
    "sdpi_attained",
    "refined_bound",
    "gibbs_rate",
    "gibbs_bound_holds",
    "refined_bound_network",
    "deeper_narrower",
    "w1_output_crosscheck",
]


@pytest.mark.parametrize("claim", ASSERTED)
def test_claim_passes_on_good_runs_and_its_negative_control_is_caught(runs: pd.DataFrame, claim: str) -> None:
    result = results(runs)[claim]
    assert result.status == PASS, result.detail
    assert all(g["status"] == PASS for g in result.gates), result.gates
    assert result.negative_control["status"] == CAUGHT, result.negative_control


def test_every_asserted_claim_declares_a_control() -> None:
    declared = claims(CFG)
    assert sorted(c.id for c in declared if c.kind != REPORT and c.threshold != "reported") == sorted(ASSERTED)
    assert all(c.control is not None for c in declared if c.id in ASSERTED)


def test_a_network_whose_error_decays_faster_than_1_over_n_fails_the_tightness_rate(runs: pd.DataFrame) -> None:
    deep = pd.DataFrame(_bounds_runs(["deep_narrow"]))  # at d = 10 its error falls ~n^(-3) over n = 1000…5000
    result = results(pd.concat([runs, deep], ignore_index=True))["tightness_rate"]
    assert result.status == FAIL and "deep_narrow d=10" in result.detail


def test_a_gibbs_grid_under_a_decade_makes_the_rate_inconclusive(runs: pd.DataFrame) -> None:
    gibbs = run_gibbs({**CFG["gibbs"], "ns": [10, 30]})
    narrow = pd.concat(
        [runs[runs["kind"] != "gibbs"], pd.DataFrame([{"kind": "gibbs", "network": k, "points": v} for k, v in gibbs.items()])]
    )
    result = results(narrow)["gibbs_rate"]
    assert result.status == INCONCLUSIVE and any(g["id"] == "n_range" and g["status"] == FAIL for g in result.gates)


def test_a_gibbs_predictor_no_better_than_a_constant_is_inconclusive(runs: pd.DataFrame) -> None:
    weak = run_gibbs({**CFG["gibbs"], "gamma": 0.5, "ns": [10, 100]})  # γ so small the posterior stays near the prior
    mixed = pd.concat(
        [runs[runs["kind"] != "gibbs"], pd.DataFrame([{"kind": "gibbs", "network": k, "points": v} for k, v in weak.items()])]
    )
    assert results(mixed)["deeper_narrower"].status == INCONCLUSIVE


def test_the_funnel_needs_its_control_run(runs: pd.DataFrame) -> None:
    without = runs[~((runs["kind"] == "bounds") & (runs["arch"] == "bottleneck_shrink"))]
    assert results(without)["funnel_bottleneck"].negative_control["status"] != CAUGHT
