"""The smoke DAG of two papers on a real one-node SLURM cluster (tools/slurm/local-slurm.sh).

One run through `--workflow-profile profiles/slurm` (about 3-4 min on 2 cores), with a
training job killed by `scancel` part-way; checked: every non-local job was a SLURM job
and ended COMPLETED, GPU-declaring jobs carried the GPU request, the cancelled job was
retried with more memory and time, and the results equal the local smoke run's. The
`--gres` profile's sbatch line is recorded from a submission that is refused on purpose.
Skips, saying why, where no SLURM cluster answers.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from conftest import ROOT, copy_project

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

SETUP = ROOT / "tools" / "slurm" / "local-slurm.sh"
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: (\S+)/\d+\.log\)")
SECOND_CHOICES = ["cs_ib", "gda", "gauge_freedom", "scaling_wisdom", "it_bounds", "f_distill"]


def cluster_problem() -> str | None:
    """Why no SLURM test can run here, or None."""
    if not shutil.which("sbatch"):
        return "SLURM is not installed (run `sudo tools/slurm/local-slurm.sh up`; .ci/run does)"
    proc = subprocess.run([str(SETUP), "status"], capture_output=True, text=True)
    return None if proc.returncode == 0 else f"the local SLURM cluster is not up: {proc.stderr.strip()}"


_PROBLEM = cluster_problem()
needs_cluster = pytest.mark.skipif(_PROBLEM is not None, reason=_PROBLEM or "")


def sacct(job_ids) -> dict[str, dict[str, str]]:
    out = subprocess.run(["sacct", "-X", "-n", "-P", "-j", ",".join(job_ids), "-o", "JobID,State,ReqTRES,Comment"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    return {r[0]: {"state": r[1].split()[0], "tres": r[2], "comment": r[3]} for r in rows}


def recording_sbatch(bin_dir: Path, fail: bool) -> Path:
    """An `sbatch` first on PATH that appends its command line to a file, then submits (or refuses)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    record = bin_dir / "sbatch.calls"
    then = "echo 'refused: recording only' >&2; exit 1" if fail else f'exec {shutil.which("sbatch")} "$@"'
    script = bin_dir / "sbatch"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {record}\n{then}\n')
    script.chmod(0o755)
    return record


def second_paper(reference: Path) -> str | None:
    """A second paper whose package exists and whose local smoke run finished, or None."""
    for paper in SECOND_CHOICES:
        if (ROOT / "src" / "paperdag" / "papers" / paper / "spec.py").exists() and \
                (reference / "results" / "smoke" / paper / "claims.json").exists():
            return paper
    return None


def job_stats(out: str) -> dict[str, int]:
    """The first 'Job stats' table of a Snakemake run: jobs planned per rule."""
    table = out.split("Job stats:", 1)[1].split("\n\n", 1)[0]
    rows = (re.match(r"^(\w+)\s+(\d+)$", line.strip()) for line in table.splitlines())
    return {m.group(1): int(m.group(2)) for m in rows if m and m.group(1) != "total"}


def gpu_model() -> str | None:
    out = subprocess.run(["sinfo", "-h", "-o", "%G"], capture_output=True, text=True).stdout
    m = re.search(r"gpu:([A-Za-z][\w.]*):\d", out)
    return m.group(1) if m else None


def run_snakemake(root: Path, args: list[str], env: dict, log: Path, timeout: float, on_poll=None):
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", *args]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT, text=True, env=env)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"snakemake timed out after {timeout} s:\n{log.read_text()[-4000:]}")
            if on_poll:
                on_poll(log.read_text())
            time.sleep(1)
    return proc.returncode, log.read_text()


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory, request):
    """The smoke DAG of monge_gap and a second paper through profiles/slurm, one training job cancelled."""
    if _PROBLEM:
        pytest.skip(_PROBLEM)
    reference = request.getfixturevalue("smoke_project")
    papers = ["monge_gap"] + [p for p in [second_paper(reference)] if p]
    root = copy_project(tmp_path_factory.mktemp("slurm") / "project")
    model = gpu_model()
    extra = {"allow_cpu": True, "cluster": {"resources": {"smoke": {"gpu": 1}}, **({"gpu_model": model} if model else {})}}
    (root / "slurm_test.yaml").write_text(yaml.safe_dump(extra))
    record = recording_sbatch(root / ".testbin", fail=False)
    env = {**os.environ, "PATH": f"{root / '.testbin'}:{os.environ['PATH']}", "PYTHONHASHSEED": "0",
           "DVC_NO_ANALYTICS": "1"}
    cancelled: list[str] = []

    def cancel_one_training_job(log_text: str) -> None:
        if cancelled:
            return
        for job_id, logdir in SUBMITTED.findall(log_text):
            if "rule_monge_gap_train" not in logdir:
                continue
            state = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%T %M"], capture_output=True, text=True).stdout.split()
            if state and state[0] == "RUNNING" and state[1] >= "0:08":
                # Kill the job's processes through the scheduler. (A plain `scancel` leaves the
                # state "CANCELLED by <uid>", which plugin 2.8.0 never reads as failed: the run hangs.)
                subprocess.run(["scancel", "--batch", "--signal=KILL", job_id], check=True)
                cancelled.append(job_id)
                return

    args = ["--workflow-profile", "profiles/slurm", "--slurm-init-seconds-before-status-checks", "5",
            "--seconds-between-status-checks", "5", "--configfile", "config.yaml", "profiles/slurm/cluster.yaml",
            "slurm_test.yaml", "--config", "scale=smoke", f"papers={json.dumps(papers)}"]
    start = time.monotonic()
    rc, out = run_snakemake(root, args, env, root / "snakemake.out", timeout=900, on_poll=cancel_one_training_job)
    return SimpleNamespace(root=root, reference=reference, papers=papers, rc=rc, out=out, model=model,
                           cancelled=cancelled, sbatch_lines=record.read_text().splitlines() if record.exists() else [],
                           seconds=time.monotonic() - start)


@needs_cluster
def test_run_finished_on_slurm(slurm_run):
    print(f"SLURM run of {slurm_run.papers}: {slurm_run.seconds:.0f} s")
    assert slurm_run.rc == 0, slurm_run.out[-6000:]
    assert len(slurm_run.papers) >= 2, "only monge_gap could run: no second paper's smoke run finished locally"
    for paper in slurm_run.papers:
        assert (slurm_run.root / "results" / "smoke" / paper / "claims.json").exists()


@needs_cluster
def test_every_heavy_job_was_a_completed_slurm_job(slurm_run):
    submitted = SUBMITTED.findall(slurm_run.out)
    planned = job_stats(slurm_run.out)
    on_slurm = {re.search(r"/rule_(\w+?)(/|$)", d).group(1) for _, d in submitted}
    heavy = {rule: n for rule, n in planned.items() if rule in on_slurm}
    assert {"monge_gap_train_maps", "monge_gap_maps2d"} <= on_slurm
    # Light rules (reports, scorecard) ran on this machine, as localrules.
    local = set(re.findall(r"^localrule (\w+):$", slurm_run.out, re.M))
    assert set(planned) - on_slurm <= local and not any(r.endswith("_report") for r in on_slurm), on_slurm
    # One submission per heavy job, plus one per retry of the killed job.
    assert len({d for _, d in submitted}) == sum(heavy.values()), (submitted, heavy)
    assert len(submitted) == sum(heavy.values()) + len(slurm_run.cancelled)
    states = sacct([job_id for job_id, _ in submitted])
    assert set(states) == {job_id for job_id, _ in submitted}
    last_state = {}
    for job_id, logdir in submitted:
        expected = "FAILED" if job_id in slurm_run.cancelled else "COMPLETED"
        assert states[job_id]["state"] == expected, (job_id, logdir, states[job_id])
        assert states[job_id]["comment"].startswith("rule_"), states[job_id]
        last_state[logdir] = states[job_id]["state"]
    assert set(last_state.values()) == {"COMPLETED"}


@needs_cluster
def test_gpu_jobs_carried_the_gpu_request(slurm_run):
    submitted = SUBMITTED.findall(slurm_run.out)
    states = sacct([job_id for job_id, _ in submitted])
    lines = [line for line in slurm_run.sbatch_lines if "--parsable" in line]
    assert len(lines) == len(submitted)
    want = f"--gpus={slurm_run.model}:1" if slurm_run.model else "--gpus=1"
    for (job_id, logdir), line in zip(submitted, lines):
        assert want in line and "--gres" not in line and "--ntasks-per-gpu" not in line, line
        assert "gres/gpu=1" in states[job_id]["tres"], (logdir, states[job_id])
        if slurm_run.model:
            assert f"gres/gpu:{slurm_run.model}=1" in states[job_id]["tres"], states[job_id]


@needs_cluster
def test_cancelled_job_was_retried_with_more_memory_and_time(slurm_run):
    assert slurm_run.cancelled, "no monge_gap training job was caught running to cancel"
    submitted = SUBMITTED.findall(slurm_run.out)
    killed = slurm_run.cancelled[0]
    logdir = dict(submitted)[killed]
    attempts = [job_id for job_id, d in submitted if d == logdir]
    assert len(attempts) == 2 and attempts[0] == killed, attempts
    assert sacct([attempts[1]])[attempts[1]]["state"] == "COMPLETED"
    lines = [line for line in slurm_run.sbatch_lines if "--parsable" in line and f"{logdir}/%j.log" in line]
    assert len(lines) == 2, lines
    assert "--mem 2000" in lines[0] and "-t 10" in lines[0], lines[0]
    assert "--mem 3000" in lines[1] and "-t 20" in lines[1], lines[1]


def _numbers(path: Path) -> dict:
    return {k: v for k, v in json.loads(path.read_text()).items() if "time" not in k}


def same(a, b, rel: float = 1e-6) -> bool:
    """Equal JSON values, floats within `rel`."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, rel) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a == pytest.approx(b, rel=rel, nan_ok=True)
    return a == b


@needs_cluster
def test_results_equal_the_local_run(slurm_run):
    for paper in slurm_run.papers:
        here = slurm_run.root / "results" / "smoke" / paper
        there = slurm_run.reference / "results" / "smoke" / paper
        runs = sorted(p.relative_to(here) for p in here.rglob("metrics.json"))
        assert runs and runs == sorted(p.relative_to(there) for p in there.rglob("metrics.json"))
        for rel in runs:
            assert same(_numbers(here / rel), _numbers(there / rel)), rel
        ours, theirs = (json.loads((d / "claims.json").read_text())["claims"] for d in (here, there))
        assert [(c["id"], c["status"]) for c in ours] == [(c["id"], c["status"]) for c in theirs]


@needs_cluster
def test_gres_profile_requests_gpus_as_gres(tmp_path):
    root = copy_project(tmp_path / "project")
    (root / "gres.yaml").write_text(yaml.safe_dump({"allow_cpu": True, "cluster": {"resources": {"smoke": {"gpu": 1}}}}))
    record = recording_sbatch(root / ".testbin", fail=True)
    env = {**os.environ, "PATH": f"{root / '.testbin'}:{os.environ['PATH']}"}
    target = "results/smoke/monge_gap/runs/gaussian/d2/linear/seed0/metrics.json"
    args = [target, "--workflow-profile", "profiles/slurm-gres", "--configfile", "config.yaml",
            "profiles/slurm-gres/cluster.yaml", "gres.yaml", "--config", "scale=smoke", 'papers=["monge_gap"]']
    rc, out = run_snakemake(root, args, env, root / "out.log", 300)
    assert rc != 0  # the recording sbatch refuses
    lines = [line for line in record.read_text().splitlines() if "--parsable" in line]
    assert lines, out[-3000:]
    assert "--gres=gpu:1" in lines[0] and "--gpus" not in lines[0] and "--ntasks-per-gpu" not in lines[0], lines[0]
    assert not (root / target).exists()


@needs_cluster
@pytest.mark.parametrize("cluster, message", [
    ({"partition": "nosuchpartition"}, "unknown partition 'nosuchpartition'"),
    ({"gpu_model": "nosuchgpu"}, "unknown GPU model 'nosuchgpu'"),
])
def test_unknown_partition_or_gpu_model_refused_before_submitting(tmp_path, cluster, message):
    root = copy_project(tmp_path / "project")
    (root / "bad.yaml").write_text(yaml.safe_dump({"cluster": cluster}))
    record = recording_sbatch(root / ".testbin", fail=True)
    env = {**os.environ, "PATH": f"{root / '.testbin'}:{os.environ['PATH']}"}
    args = ["--workflow-profile", "profiles/slurm", "--configfile", "config.yaml", "profiles/slurm/cluster.yaml", "bad.yaml",
            "--config", "scale=smoke", 'papers=["monge_gap"]']
    rc, out = run_snakemake(root, args, env, root / "out.log", 120)
    assert rc != 0 and message in out, out[-3000:]
    assert out.count("config error") == 1
    assert not record.exists() and not (root / "results").exists()


def test_paper_scale_without_gpus_refuses_before_running_anything(tmp_path):
    """Runs everywhere (no cluster needed): this machine has no GPU, and allow_cpu is off."""
    root = copy_project(tmp_path / "project")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    rc, out = run_snakemake(root, ["--config", "scale=paper", 'papers=["monge_gap"]', "allow_cpu=False"], env,
                            root / "out.log", 120)
    assert rc != 0
    assert re.search(r"declares GPUs for rule\(s\) .*monge_gap_train", out), out[-3000:]
    assert "allow_cpu" in out and not (root / "results").exists()
