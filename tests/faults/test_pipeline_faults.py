"""The pipeline under faults, on copies of the finished smoke project: determinism,
SIGKILL and resume, no partial outputs, divergence under --keep-going."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import edit_config, snakemake
from faults_helpers import RUN, run_stage

pytestmark = pytest.mark.workflow

MLP = RUN / "mlp" / "seed0"


def test_same_job_twice_gives_byte_identical_metrics(smoke_project, smoke_copy):
    """The Snakemake run of the fixture and a second run by hand write the same bytes."""
    for name in ("metrics.json", "provenance.json", "model.pt"):
        (smoke_copy / MLP / name).unlink()
    run_stage(smoke_copy, "monge_gap", "train", "benchmark=gaussian", "job=maps", "--scale", "smoke")
    first, second = smoke_project / MLP, smoke_copy / MLP
    assert (second / "metrics.json").read_bytes() == (first / "metrics.json").read_bytes()
    weights = [torch.load(d / "model.pt", weights_only=True) for d in (first, second)]
    assert weights[0].keys() == weights[1].keys()
    for name, tensor in weights[0].items():  # (the file bytes differ: torch.save records the temporary name)
        assert torch.equal(tensor, weights[1][name]), name
    prov = [json.loads((d / "provenance.json").read_text()) for d in (first, second)]
    for key in ("config_hash", "seed", "packages", "git", "device"):
        assert prov[0][key] == prov[1][key], key


def _wait_for(path_glob: str, root: Path, proc: subprocess.Popen, timeout: float) -> Path:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        found = list(root.glob(path_glob))
        if found:
            return found[0]
        assert proc.poll() is None, "the job ended before its first checkpoint"
        time.sleep(0.02)
    raise AssertionError(f"no {path_glob} after {timeout} s")


def test_sigkill_then_rerun_incomplete_resumes_to_identical_metrics(smoke_copy):
    root, steps, every = smoke_copy, 600, 20
    edit_config(root, lambda c: c["monge_gap"]["smoke"]["training"].update(steps=steps))  # the maps job
    target = str(MLP / "metrics.json")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    started = time.time()
    proc = subprocess.Popen([sys.executable, "-m", "snakemake", "--cores", "2", target, "--config", "scale=smoke"],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        ckpt = _wait_for("results/smoke/.ckpt/monge_gap/train/*job=maps/*/d2/last.ckpt", root, proc, 300)
        time.sleep(random.uniform(0.0, 1.0))  # a random point after the first checkpoint
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # Snakemake and its job, as when a node is lost
        proc.wait()
    step = torch.load(ckpt, weights_only=True)["global_step"]
    assert 0 < step < steps and step % every == 0, step
    # No partial outputs: nothing a later run could take for a finished result.
    assert not (root / target).exists()
    written = [p.name for p in (root / MLP).iterdir() if p.stat().st_mtime >= started and not p.name.startswith(".")]
    assert written == [], written  # (model.pt, provenance.json of the earlier finished run may remain)

    snakemake(root, "--unlock", "--config", "scale=smoke")
    snakemake(root, "--rerun-incomplete", target, "--config", "scale=smoke")
    log = (root / "results/smoke/logs/monge_gap/train/gaussian/maps.log").read_text()
    assert f"resuming from {ckpt.relative_to(root)}" in log
    assert not ckpt.parent.exists()  # checkpoints are removed once the job has finished
    resumed = (root / target).read_bytes()

    for name in ("metrics.json", "provenance.json", "model.pt"):  # now the uninterrupted run
        (root / MLP / name).unlink()
    run_stage(root, "monge_gap", "train", "benchmark=gaussian", "job=maps", "--scale", "smoke")
    assert (root / target).read_bytes() == resumed
    assert json.loads(resumed)["train_steps"] == steps


def test_divergence_with_keep_going_finishes_the_rest_and_marks_claims_not_evaluated(smoke_copy):
    root = smoke_copy
    def add_bad_method(c: dict) -> None:
        c["monge_gap"]["smoke"]["methods"]["mlp_bad"] = {"kind": "mlp", "hidden": [8], "monge_gap": 1.0e300,
                                                        "mg_eps_scale": 0.01}  # λ overflows: an infinite loss
        c["monge_gap"]["smoke"]["jobs"] = {"bad": ["mlp_bad"]}

    edit_config(root, add_bad_method)
    other = root / "results/smoke/cs_ib/claims.json"
    other.unlink()  # an independent job that must still run
    proc = snakemake(root, "--keep-going", "--config", "scale=smoke", check=False)
    assert proc.returncode != 0

    log = (root / "results/smoke/logs/monge_gap/train/gaussian/bad.log").read_text()
    assert "DivergenceError" in log
    for part in ("monge_gap", "method=mlp_bad", "seed=0", "at step 0"):
        assert part in log, part
    assert not list((root / "results/smoke/monge_gap/runs").glob("*/*/mlp_bad/*/metrics.json"))

    assert other.exists()  # the rest of the DAG finished
    fresh = {c["id"]: c["status"] for c in json.loads(other.read_text())["claims"]}
    rubric = json.loads((root / "results/smoke/rubric.json").read_text())  # written with CLAIMS.md
    assert "mlp_bad" in rubric["blocked"]["monge_gap"]
    assert "Partial scorecard" in (root / "results/smoke/CLAIMS.md").read_text()
    mg = rubric["papers"]["monge_gap"]["claims"]
    assert mg and all(c["status"] == "not evaluated" for c in mg)
    assert {c["id"]: c["status"] for c in rubric["papers"]["cs_ib"]["claims"]} == fresh
