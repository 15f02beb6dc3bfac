"""Shared fixtures: a disposable copy of the project, and Snakemake runs inside it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def project_files() -> list[str]:
    """Tracked files plus untracked ones git does not ignore (what a clone would have, plus work in progress)."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file() and not f.startswith("results/")})


def copy_project(dest: Path) -> Path:
    for rel in project_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return dest


def snakemake(cwd: Path, *args: str, check: bool = True, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run Snakemake in `cwd`; on failure with check=True, show its output."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "DVC_NO_ANALYTICS": "1"}
    proc = subprocess.run([*SNAKEMAKE, "--cores", "2", *args], cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project, without results."""
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project with the full smoke-scale DAG already run (shared, read-only use)."""
    root = copy_project(tmp_path_factory.mktemp("smoke") / "project")
    snakemake(root, "--config", "scale=smoke")
    return root
