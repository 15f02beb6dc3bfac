"""CS-IB smoke scale through Snakemake in a copy of the project: every claim present with a valid status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import CLAIM_STATUSES as STATUSES  # noqa: E402

CLAIM_IDS = {
    "csib_beats_best_baseline",
    "info_plane_frontier",
    "fgsm_csib_vs_mse",
    "compression_helps",
    "generalisation_study",
    "tuned_ranking",
    "beta_compresses",
    "losses_finite",
}


@pytest.mark.workflow
def test_cs_ib_smoke_through_snakemake(smoke_project: Path) -> None:
    project = smoke_project  # the shared smoke run of the whole DAG (tests/conftest.py)
    claims = json.loads((project / "results/smoke/cs_ib/claims.json").read_text())
    assert claims["paper"] == "cs_ib" and claims["scale"] == "smoke"
    assert {c["id"] for c in claims["claims"]} == CLAIM_IDS
    assert all(c["status"] in STATUSES for c in claims["claims"])
    assert {c["id"]: c["status"] for c in claims["claims"]}["losses_finite"] == "pass"
    for name in ("rmse", "mae", "rmse_official_best"):
        table = (project / f"results/smoke/cs_ib/tables/{name}.md").read_text()
        assert "stand-in for UCI Bike Sharing" in table
    metrics = json.loads((project / "results/smoke/cs_ib/runs/bikeshare/cs_ib/beta0.01/seed0/metrics.json").read_text())
    assert metrics["stand_in_for"] and metrics["test_rmse"] > 0
    assert metrics["curve"]["val"] and metrics["linear_test_rmse"] > 0
    study = json.loads((project / "results/smoke/cs_ib/runs/gen_study/networks.json").read_text())
    assert len(study["networks"]) >= 4 and all(n["gap"] == n["test_mse"] - n["train_mse"] for n in study["networks"])
    assert (project / "results/smoke/cs_ib/tables/gen_study.md").exists()
