"""Run the `gda` paper at smoke scale through Snakemake, in a temporary copy of the repository."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import smoke_claims  # noqa: E402


@pytest.mark.workflow
def test_gda_smoke_through_snakemake(smoke_project: Path) -> None:
    root = smoke_project  # the shared smoke run of the whole DAG (tests/conftest.py)
    paper = root / "results/smoke/gda"
    by_id = smoke_claims(root, "gda")
    assert by_id["largest_d_gap_reduced"]["status"] in {"pass", "fail"}  # measured, on resolved gaps (its gate passed)
    assert by_id["largest_d_gap_reduced"]["negative_control"]["status"] == "caught"
    assert isinstance(by_id["largest_d_gap_reduced"]["measured"], float)
    run = json.loads((paper / "runs/sim/d_sweep/d10_m10/gamma10/metrics.json").read_text())
    assert run["experiment"] == "bgmm" and len(run["gaps"]) == run["repeats"] == 100
    for name in ("figures/figure1.png", "figures/figure1.pdf", "tables/bgmm_gaps.csv", "tables/bgmm_theory.md"):
        assert (paper / name).stat().st_size > 0
