"""it_bounds smoke scale through Snakemake in a copy of the project: every claim present with a valid status."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

STATUSES = {"pass", "fail", "not evaluated", "report"}
CLAIM_IDS = {"bounds_hold", "per_w_pointwise", "kl_non_increasing", "d0_closed_form", "output_tightness", "decay_slopes",
             "funnel_bottleneck", "sdpi_contraction", "sdpi_attained", "refined_bound", "deeper_narrower",
             "w1_output_crosscheck", "reference_numbers"}
# Mathematical invariants: they hold at any scale, so a smoke run that fails one is a bug.
MUST_PASS = {"bounds_hold", "per_w_pointwise", "kl_non_increasing", "sdpi_contraction", "sdpi_attained", "refined_bound"}


def _with_it_bounds(project: Path) -> None:
    """Make sure the copy's config.yaml has the it_bounds section (until the lead merges config/it_bounds.yaml)."""
    cfg = yaml.safe_load((project / "config.yaml").read_text())
    if "it_bounds" not in cfg:
        cfg.update(yaml.safe_load((project / "config" / "it_bounds.yaml").read_text()))
        (project / "config.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))


@pytest.mark.workflow
def test_it_bounds_smoke_through_snakemake(project: Path) -> None:
    _with_it_bounds(project)
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--config", "scale=smoke", 'papers=["it_bounds"]', "--cores", "1",
                           "results/smoke/it_bounds/claims.json"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    claims = json.loads((project / "results/smoke/it_bounds/claims.json").read_text())
    assert claims["paper"] == "it_bounds" and claims["scale"] == "smoke"
    status = {c["id"]: c["status"] for c in claims["claims"]}
    assert set(status) == CLAIM_IDS
    assert set(status.values()) <= STATUSES
    assert {k: status[k] for k in MUST_PASS} == {k: "pass" for k in MUST_PASS}
    run = json.loads((project / "results/smoke/it_bounds/runs/bounds/deep_narrow/d8/n10/metrics.json").read_text())
    assert run["widths"] == [8, 4, 2, 1] and len(run["layers"]) == 4 and run["draws"] == 200
    table = (project / "results/smoke/it_bounds/tables/bounds.csv").read_text().splitlines()
    assert len(table) == 1 + sum(len(w) for w in ([8, 16, 1], [8, 4, 2, 1], [8, 2, 8, 1])) * 2  # layers × n, plus header
    for fig in ("bounds_vs_n", "kl_per_layer", "tightness_heatmap", "sdpi_coefficients"):
        assert (project / f"results/smoke/it_bounds/figures/{fig}.png").stat().st_size > 0
