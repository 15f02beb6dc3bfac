"""Run the `gauge_freedom` paper at smoke scale through Snakemake, in a temporary copy of the repository."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import smoke_claims  # noqa: E402


@pytest.mark.workflow
def test_gauge_freedom_smoke_through_snakemake(smoke_project: Path) -> None:
    root = smoke_project  # the shared smoke run of the whole DAG (tests/conftest.py)
    paper = root / "results/smoke/gauge_freedom"
    by_id = smoke_claims(root, "gauge_freedom")
    for measured_at_smoke in ("exact_score_id", "gauge_sampling_smoke", "gauge_divergence_free", "conservative_is_symmetric"):
        assert by_id[measured_at_smoke]["status"] in {"pass", "fail"}, by_id[measured_at_smoke]
        assert isinstance(by_id[measured_at_smoke]["measured"], float)
    run = json.loads((paper / "trained/sphere/conservative/seed0/metrics.json").read_text())
    assert run["model"] == "conservative" and run["id"], run
    for name in ("tables/id_estimates.csv", "tables/gmm_gauge.md", "figures/spectra.png", "figures/trajectories.pdf",
                 "figures/gauge_samples.png", "figures/figure5.png", "tables/figure5.csv"):
        assert (paper / name).stat().st_size > 0
    assert by_id["figure5_trajectories"]["status"] == "report", by_id["figure5_trajectories"]
