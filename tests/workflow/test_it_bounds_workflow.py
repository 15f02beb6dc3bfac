"""it_bounds smoke scale through Snakemake in a copy of the project: every claim present with a valid status."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CLAIM_STATUSES as STATUSES  # noqa: E402

CLAIM_IDS = {"bounds_hold", "per_w_pointwise", "kl_non_increasing", "d0_closed_form", "output_tightness", "tightness_rate",
             "decay_slopes", "funnel_bottleneck", "sdpi_contraction", "sdpi_attained", "refined_bound", "gibbs_rate",
             "gibbs_bound_holds", "refined_bound_network", "deeper_narrower", "w1_output_crosscheck", "reference_numbers"}
# Mathematical invariants: they hold at any scale, so a smoke run that fails one is a bug.
MUST_PASS = {"bounds_hold", "per_w_pointwise", "kl_non_increasing", "sdpi_contraction", "sdpi_attained", "refined_bound",
             "gibbs_bound_holds", "refined_bound_network"}



@pytest.mark.workflow
def test_it_bounds_smoke_through_snakemake(smoke_project: Path) -> None:
    project = smoke_project  # the shared smoke run of the whole DAG (tests/conftest.py)
    claims = json.loads((project / "results/smoke/it_bounds/claims.json").read_text())
    assert claims["paper"] == "it_bounds" and claims["scale"] == "smoke"
    status = {c["id"]: c["status"] for c in claims["claims"]}
    assert set(status) == CLAIM_IDS
    assert set(status.values()) <= STATUSES
    assert {k: status[k] for k in MUST_PASS} == {k: "pass" for k in MUST_PASS}
    run = json.loads((project / "results/smoke/it_bounds/runs/bounds/deep_narrow/d8/n10/metrics.json").read_text())
    assert run["widths"] == [8, 4, 2, 1] and len(run["layers"]) == 4 and run["draws"] == 200
    table = (project / "results/smoke/it_bounds/tables/bounds.csv").read_text().splitlines()
    widths = ([8, 16, 1], [8, 4, 2, 1], [8, 2, 8, 1], [8, 2, 8, 1])  # wide, deep, bottleneck expand and shrink
    assert len(table) == 1 + sum(len(w) for w in widths) * 2  # layers × n, plus header
    gibbs = (project / "results/smoke/it_bounds/tables/gibbs.csv").read_text().splitlines()
    assert len(gibbs) == 1 + (3 + 5) * 2  # (layers 0…L) × n for both networks, plus header
    for fig in ("bounds_vs_n", "kl_per_layer", "tightness_heatmap", "sdpi_coefficients", "gibbs_rate"):
        assert (project / f"results/smoke/it_bounds/figures/{fig}.png").stat().st_size > 0
