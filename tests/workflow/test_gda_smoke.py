"""Run the `gda` paper at smoke scale through Snakemake, in a temporary copy of the repository."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import snakemake

STATUSES = {"pass", "fail", "not evaluated", "report"}


@pytest.mark.workflow
def test_gda_smoke_through_snakemake(project: Path) -> None:
    root = project
    config = yaml.safe_load((root / "config.yaml").read_text())
    if "gda" not in config:  # until the lead merges config/gda.yaml into config.yaml
        config.update(yaml.safe_load((root / "config" / "gda.yaml").read_text()))
    config["papers"] = ["gda"]
    (root / "gda_config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    # the target goes before --config, which takes every argument after it as a key=value pair
    snakemake(root, "results/smoke/gda/claims.json", "--configfile", "gda_config.yaml", "--config", "scale=smoke",
              'papers=["gda"]', timeout=300)
    paper = root / "results/smoke/gda"
    claims = json.loads((paper / "claims.json").read_text())
    from paperdag.papers.gda.claims import CLAIMS

    assert [c["id"] for c in claims["claims"]] == [c.id for c in CLAIMS]
    assert all(c["status"] in STATUSES for c in claims["claims"])
    by_id = {c["id"]: c for c in claims["claims"]}
    assert by_id["largest_d_gap_reduced"]["status"] in {"pass", "fail"}  # the smoke check was actually measured
    assert isinstance(by_id["largest_d_gap_reduced"]["measured"], float)
    run = json.loads((paper / "runs/sim/d_sweep/d10_m10/gamma10/metrics.json").read_text())
    assert run["experiment"] == "bgmm" and len(run["gaps"]) == run["repeats"] == 20
    for name in ("figures/figure1.png", "figures/figure1.pdf", "tables/bgmm_gaps.csv", "tables/bgmm_theory.md"):
        assert (paper / name).stat().st_size > 0
