"""Every `snakemake` and `paperdag` command the README shows is run by a test.

Raw Snakemake lines run as written plus `-n` (a dry run: the command must parse, validate the
config and plan its DAG; the SLURM-profile lines only where `sinfo` answers). `paperdag` lines
with no placeholder run as written when they only read (`plan`, `status`, `diff`); the others
(`run`, `verify`, `report`, `fetch`, `data pin`, `stage`) must name a real verb and options,
checked through `--help`, and are run for real by their own tests (test_cli_workflow.py, the
smoke pipeline, test_data_pin.py). `make` lines are what `.ci/run` runs.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.workflow

READ_ONLY_VERBS = {"plan", "status", "diff"}
PLACEHOLDER = re.compile(r"[\[\]]|\.\.\.|\b[A-Z]{2,}\b")


def readme_commands(prefix: str) -> list[str]:
    """Command lines of the README's bash blocks whose program is `prefix` (with or without .venv/bin/)."""
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    lines = []
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if re.match(rf"(\.venv/bin/)?{prefix}\b", line):
                lines.append(line)
    return lines


def _env(root: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0", "DVC_NO_ANALYTICS": "1"}


def test_readme_snakemake_lines_plan(project: Path) -> None:
    lines = readme_commands("snakemake")
    assert len(lines) >= 4, lines
    slurm = shutil.which("sinfo") and subprocess.run(["sinfo", "-h"], capture_output=True, timeout=30).returncode == 0
    ran = 0
    for line in lines:
        if "profiles/slurm" in line and not slurm:
            continue
        argv = [sys.executable, "-m", "snakemake", *shlex.split(line)[1:], "-n"]
        proc = subprocess.run(argv, cwd=project, env=_env(project), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{line}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        ran += 1
    assert ran >= 4


def test_readme_paperdag_lines_name_real_verbs_and_options(project: Path) -> None:
    lines = readme_commands("paperdag")
    assert len(lines) >= 10, lines
    for line in lines:
        argv = shlex.split(PLACEHOLDER.sub(" ", line) if PLACEHOLDER.search(line) else line)[1:]
        verb = argv[0]
        base = [sys.executable, "-m", "paperdag.cli"]
        if verb in READ_ONLY_VERBS and not PLACEHOLDER.search(line):
            if verb == "diff":
                continue  # a copy has no git history; tests/unit/test_cli.py runs `diff` against revisions
            cmd = [*base, *argv]
        else:
            sub = argv[:2] if verb == "data" else argv[:1]
            options = [a for a in argv if a.startswith("--") and a not in ("--help",)]
            cmd = [*base, *sub, "--help"]
            help_text = subprocess.run(cmd, cwd=project, env=_env(project), capture_output=True, text=True, timeout=120).stdout
            for option in options:
                if verb != "stage":  # `stage` passes its options to the by-hand runner's own parser
                    assert option.split("=")[0] in help_text, f"{line}: `paperdag {' '.join(sub)}` has no option {option}"
        proc = subprocess.run(cmd, cwd=project, env=_env(project), capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"{line}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
