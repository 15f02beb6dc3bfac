"""Run the `f_distill` paper at smoke scale through Snakemake, in a temporary copy of the repository."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import CLAIM_STATUSES as STATUSES  # noqa: E402


@pytest.mark.workflow
def test_f_distill_smoke_through_snakemake(smoke_project: Path) -> None:
    root = smoke_project  # the shared smoke run of the whole DAG (tests/conftest.py)
    config = yaml.safe_load((root / "config.yaml").read_text())
    out = root / "results/smoke/f_distill"
    from paperdag.config import resolve_paper
    from paperdag.contract import paper_claims

    claims = json.loads((out / "claims.json").read_text())["claims"]
    assert [c["id"] for c in claims] == [c.id for c in paper_claims("f_distill", resolve_paper(config, "f_distill", "smoke"))]
    assert all(c["status"] in STATUSES for c in claims)
    by_id = {c["id"]: c for c in claims}
    assert by_id["toy_normal_precision_sinkhorn"]["status"] == "report"  # measured at smoke, not asserted
    # protocol smoke check: a few dozen student steps with the analytic teacher lower the exact Fréchet distance
    runs = sorted(out.glob("runs/toy/normal/*/seed*/metrics.json"))
    assert len(runs) == len(config["f_distill"]["smoke"]["toy"]["divergences"])
    for path in runs:
        m = json.loads(path.read_text())
        assert m["trajectory"]["fd"][-1] < m["trajectory"]["fd"][0], (path, m["trajectory"]["fd"])
        assert m["fd"] >= 0 and 0 <= m["tv"] <= 1 and m["floor_fd"] > 0
        # the references (issue #18), with the students' metrics: the teacher's Heun samples, the direct fit
        for prefix in ("teacher", "direct"):
            assert all(0 <= m[f"{prefix}_{k}"] <= 1 for k in ("precision", "recall")), (path, prefix)
            assert m[f"{prefix}_fd"] >= 0 and m[f"{prefix}_sinkhorn"] == m[f"{prefix}_sinkhorn"], (path, prefix)
        assert m["direct_loss_last"] < m["direct_loss_first"], path
    final = pd.read_csv(out / "tables/metrics_final.csv")
    toy = final[final["task"] == "toy"]
    assert {"teacher", "direct_fit", "data_vs_data"} <= set(toy["divergence"]), set(toy["divergence"])
    assert set(toy[toy["divergence"] == "direct_fit"]["metric"]) >= {"fd", "precision", "recall", "sinkhorn"}
    samples = np.load(out / "samples/toy_normal.npz")
    assert samples["teacher"].shape[0] == samples["direct"].shape[0] == len(config["f_distill"]["smoke"]["seeds"])
    detail = by_id["toy_normal_precision_sinkhorn"]["detail"]
    assert "teacher (Heun)" in detail and "direct fit" in detail and "data vs data" in detail, detail
    for name in ("tables/metrics_final.csv", "tables/paired_vs_rkl.md", "figures/toy_samples.png", "figures/trajectories.png"):
        assert (out / name).stat().st_size > 0
