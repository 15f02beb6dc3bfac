"""Run scaling_wisdom at smoke scale through Snakemake in a copy of the project; check claims, tables and runs."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from conftest import CLAIM_STATUSES as STATUSES  # noqa: E402

PAPER = "scaling_wisdom"


@pytest.mark.workflow
def test_scaling_wisdom_smoke_through_snakemake(smoke_project: Path) -> None:
    root = smoke_project  # the shared smoke run of the whole DAG (tests/conftest.py)
    config = yaml.safe_load((root / "config.yaml").read_text())

    out = root / "results" / "smoke" / PAPER
    claims = json.loads((out / "claims.json").read_text())
    from paperdag.config import resolve_paper
    from paperdag.contract import paper_claims

    cfg = resolve_paper(config, PAPER, "smoke")
    assert [c["id"] for c in claims["claims"]] == [c.id for c in paper_claims(PAPER, cfg)]
    assert all(c["status"] in STATUSES for c in claims["claims"])
    for name in ("tables/crossover.csv", "tables/lr_sweep.md", "tables/regularization.csv", "figures/crossover.png"):
        assert (out / name).stat().st_size > 0

    # every run finished, learned something, and carries the numbers the claims read
    runs = [json.loads(p.read_text()) for p in out.glob("runs/**/metrics.json")]
    from paperdag.papers.scaling_wisdom import spec

    inputs = spec.inputs(cfg, "report", {})
    assert len(runs) == sum(p.endswith("metrics.json") for p in inputs) > 0
    for ext in (p for p in inputs if p.endswith("extension.json")):  # a self-extending sweep's added runs
        assert "runs" in json.loads((out / ext).read_text())
    for r in runs:
        assert not r["diverged"], r
        assert r["test_loss"] < 1.1 * math.log(cfg["vocab"]), r
        for key in ("val_loss", "train_loss", "tokens_per_param", "mfu", "order1_entropy"):
            assert key in r

    # the claim code runs on the smoke runs (the claims themselves apply at default scale only)
    import pandas as pd

    table = pd.DataFrame(runs)
    for claim in paper_claims(PAPER, cfg):
        try:
            claim.evaluate(table)
        except LookupError:  # MissingRuns / not learnable at this toy size: a valid outcome
            pass
