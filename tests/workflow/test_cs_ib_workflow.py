"""CS-IB smoke scale through Snakemake in a copy of the project: every claim present with a valid status."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

STATUSES = {"pass", "fail", "not evaluated", "report"}
CLAIM_IDS = {"csib_rmse_vs_mse", "beta_compresses", "fgsm_monotone", "csib_beats_best_baseline",
             "fgsm_auc_csib_vs_mse", "losses_finite", "csib_best_paper"}


def _with_cs_ib(project: Path) -> None:
    """Make sure the copy's config.yaml has the cs_ib section (until the lead merges config/cs_ib.yaml)."""
    cfg = yaml.safe_load((project / "config.yaml").read_text())
    if "cs_ib" not in cfg:
        cfg.update(yaml.safe_load((project / "config" / "cs_ib.yaml").read_text()))
        (project / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.mark.workflow
def test_cs_ib_smoke_through_snakemake(project: Path) -> None:
    _with_cs_ib(project)
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--config", "scale=smoke", 'papers=["cs_ib"]', "--cores", "1",
                           "results/smoke/cs_ib/claims.json"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
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
