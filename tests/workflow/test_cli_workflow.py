"""`paperdag` against real Snakemake runs in copies of the project: the README's by-hand stage
command, run reusing results versus run --from-scratch, status and plan on the smoke run, a NaN
in config.yaml refused before any job, and fetch refusing a missing remote."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, snakemake

from paperdag.stage import job_from_spec

pytestmark = pytest.mark.workflow


def paperdag(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`paperdag ARGS` in `root`, with that copy's library (what `.venv/bin/paperdag` runs)."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0", "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "paperdag.cli", *args], cwd=root, env=env, capture_output=True, text=True, timeout=600
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"paperdag {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def readme_stage_commands() -> list[str]:
    """The README's by-hand stage commands at smoke scale, as written there."""
    text = (ROOT / "README.md").read_text()
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    return [
        line
        for line in lines
        if re.match(r"(\.venv/bin/python workflow/scripts/stage\.py|\.venv/bin/paperdag stage) ", line)
        and "--scale smoke" in line
        and not line.endswith("\\")
    ]


def test_readme_by_hand_stage_command_runs(project: Path) -> None:
    commands = readme_stage_commands()
    assert commands, "README shows no smoke-scale by-hand stage command"
    env = {**os.environ, "PYTHONPATH": str(project / "src"), "PYTHONHASHSEED": "0"}
    for command in commands:
        argv = command.split()
        argv = [sys.executable, *argv[1:]] if argv[0] == ".venv/bin/python" else [sys.executable, "-m", "paperdag.cli", *argv[1:]]
        proc = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{command}:\n{proc.stderr[-4000:]}"
        args = [a for a in argv if "=" in a and not a.startswith("-")]
        paper, stage = argv[argv.index("stage") + 1 : argv.index("stage") + 3] if "stage" in argv else argv[2:4]
        job = job_from_spec(paper, stage, "smoke", dict(a.split("=", 1) for a in args), project / "config.yaml")
        assert job.outputs and all((project / out).is_file() for out in job.outputs), command
    # one of them puts an option before the wildcards (plain argparse refused those wildcards)
    assert any(re.search(r" --scale smoke \w+=", c) for c in commands)


def test_run_reuses_results_and_from_scratch_regenerates(smoke_copy: Path) -> None:
    root = smoke_copy
    status = paperdag(root, "status", "--scale", "smoke").stdout
    assert re.search(r"^it_bounds\s+\d\.\d\d\s", status, re.M) and "nothing is stale" in status
    claims = root / "results/smoke/it_bounds/claims.json"
    before, stamp = claims.read_bytes(), claims.stat().st_mtime_ns
    runs = root / "results/smoke/it_bounds/runs"
    subprocess.run(["rm", "-r", str(runs)], check=True)

    # Reuse: the final outputs exist, so Snakemake sees nothing to do, missing intermediates or not.
    proc = paperdag(root, "run", "--scale", "smoke", "--paper", "it_bounds")
    out = proc.stdout
    assert "Nothing to be done" in proc.stderr and re.search(r"^it_bounds\s+\d\.\d\d\s", out, re.M)
    assert not runs.exists() and claims.stat().st_mtime_ns == stamp

    plan = paperdag(root, "plan", "--scale", "smoke", "--paper", "it_bounds", "--from-scratch").stdout
    jobs = re.findall(r"^  (it_bounds_\w+).*Forced execution$", plan, re.M)
    assert sorted(set(jobs)) == ["it_bounds_bounds", "it_bounds_gibbs", "it_bounds_report", "it_bounds_sdpi"], plan
    assert "estimate:" in plan and "results/smoke/benchmarks/" in plan  # the smoke run's timings
    assert not re.search(r"^  (?!it_bounds_)", plan, re.M)  # no other paper's job

    out = paperdag(root, "run", "--scale", "smoke", "--paper", "it_bounds", "--from-scratch").stdout
    assert runs.is_dir() and claims.stat().st_mtime_ns != stamp
    assert claims.read_bytes() == before  # regenerated, and deterministic
    assert re.search(r"^it_bounds\s+\d\.\d\d\s", out, re.M)


def test_nan_in_config_stops_before_any_job(project: Path) -> None:
    config = project / "config.yaml"
    text = config.read_text()
    assert "lr: 1.0e-3" in text
    config.write_text(text.replace("lr: 1.0e-3", "lr: .nan", 1))
    proc = snakemake(project, "-n", check=False)
    assert proc.returncode != 0 and "Job stats" not in proc.stdout
    assert "config error at 'monge_gap.base.training.lr': nan is not a finite number" in proc.stderr
    proc = paperdag(project, "plan", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "paperdag plan: config error at 'monge_gap.base.training.lr': nan is not a finite number"
    assert not (project / "results").exists()


def test_fetch_refuses_a_missing_remote(project: Path, tmp_path: Path) -> None:
    proc = paperdag(project, "fetch", "--remote", str(tmp_path / "no-remote"), check=False)
    assert proc.returncode == 1 and "does not exist; nothing was changed" in proc.stderr
    assert not (project / "results").exists()
