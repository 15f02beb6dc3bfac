"""The DAG end to end on copies of the project: job counts, a smoke run, reruns, bad config."""
from __future__ import annotations

import json
import re
import time

import pytest
import yaml
from conftest import edit_config, snakemake, tree_hash

pytestmark = pytest.mark.workflow

from conftest import CLAIM_STATUSES as STATUSES  # noqa: E402


def job_counts(proc) -> dict[str, int]:
    """Parse the 'Job stats' table of a dry run."""
    counts = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts






@pytest.mark.parametrize("scale", ["smoke", "default", "paper"])
def test_dry_run_job_counts_follow_config(project, scale):
    from paperdag.config import resolve_paper

    counts = job_counts(snakemake(project, "-n", "--config", f"scale={scale}", "papers=[monge_gap]"))
    cfg = resolve_paper(yaml.safe_load((project / "config.yaml").read_text()), "monge_gap", scale)
    for job in cfg["jobs"]:  # one rule per job of methods, one job of it per benchmark
        assert counts[f"monge_gap_train_{job}"] == len(cfg["benchmarks"]), counts
    assert counts["monge_gap_report"] == 1 and counts["scorecard"] == 1


def test_smoke_run_outputs(smoke_project):
    results = smoke_project / "results" / "smoke"
    rubric = json.loads((results / "rubric.json").read_text())  # the scorecard's data
    for claims_file in sorted(results.glob("*/claims.json")):
        data = json.loads(claims_file.read_text())
        assert data["scale"] == "smoke" and data["claims"], claims_file
        assert rubric["papers"][data["paper"]]["claims"] == data["claims"]
        for claim in data["claims"]:
            assert claim["status"] in STATUSES
    run = results / "monge_gap" / "runs" / "gaussian" / "d2" / "mlp_mg" / "seed0"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["method"] == "mlp_mg" and metrics["l2_uvp"] >= 0
    prov = json.loads((run / "provenance.json").read_text())
    keys = ("git", "config_hash", "seed", "packages", "device", "host", "environment_digest", "wall_time_s", "peak_memory_mb")
    assert all(key in prov for key in keys), sorted(prov)
    assert prov["device"]["torch"] == prov["packages"]["torch"] and len(prov["environment_digest"]) == 64
    for ext in ("csv", "md", "tex"):
        assert (results / "monge_gap" / "tables" / f"l2_uvp.{ext}").stat().st_size > 0
    assert (results / "monge_gap" / "figures" / "maps_2d.png").stat().st_size > 0
    assert list((results / "benchmarks" / "monge_gap" / "train").rglob("*.tsv"))
    summary = (results / "benchmarks" / "summary.md").read_text()  # the benchmark_summary rule
    assert "| monge_gap |" in summary and "| **all** |" in summary and "-minute goal" in summary


def test_nothing_to_do_after_a_run(smoke_project):
    """After a run, a dry run finds nothing stale (its cost is measured by tools/bench/dag_build.py)."""
    proc = snakemake(smoke_project, "-n", "--config", "scale=smoke")
    assert "Nothing to be done" in proc.stdout + proc.stderr


def test_hyperparameter_change_reruns_only_that_method(smoke_project, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    edit_config(root, lambda c: c["monge_gap"]["smoke"]["methods"]["mlp_mg"].update(monge_gap=2.0))
    proc = snakemake(root, "-n", "--config", "scale=smoke")
    counts = job_counts(proc)  # the job that trains mlp_mg (with its batch-mates), no other training
    assert counts.get("monge_gap_train_maps") == 1, proc.stdout
    assert not [r for r in counts if r.startswith("monge_gap_train_") and r != "monge_gap_train_maps"], counts


def _dry_run_after_editing(smoke_project, tmp_path, module: str) -> dict[str, int]:
    """Job counts of a smoke dry run in a copy of the finished project after appending to `module`."""
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    time.sleep(1)
    with open(root / "src/paperdag" / module, "a") as fh:
        fh.write("\n# edited\n")
    return job_counts(snakemake(root, "-n", "--config", "scale=smoke"))


def test_library_edit_reruns_importing_jobs(smoke_project, tmp_path):
    counts = _dry_run_after_editing(smoke_project, tmp_path, "papers/monge_gap/ot.py")
    assert counts.get("monge_gap_train_maps", 0) >= 1 and counts.get("monge_gap_report") == 1


def test_lazily_imported_model_edit_reruns_training_not_other_papers(smoke_project, tmp_path):
    """scaling_wisdom's train() imports its model inside functions; an edit must still rerun it."""
    counts = _dry_run_after_editing(smoke_project, tmp_path, "papers/scaling_wisdom/model.py")
    assert counts.get("scaling_wisdom_train_all") == 1 and counts.get("scaling_wisdom_report") == 1
    assert not any(rule.startswith(("monge_gap", "gda", "cs_ib")) for rule in counts), counts


def test_bad_config_stops_before_any_job_and_keeps_results(smoke_project, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    before = tree_hash(root / "results")
    edit_config(root, lambda c: c["monge_gap"]["base"].update(seeds=[0, -3]))
    proc = snakemake(root, "--config", "scale=smoke", check=False)
    assert proc.returncode != 0
    assert "monge_gap.default.seeds[1]" in proc.stdout + proc.stderr  # smoke overrides seeds; default is checked too
    assert tree_hash(root / "results") == before
