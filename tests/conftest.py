"""Shared fixtures: a disposable copy of the project, and Snakemake runs inside it."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
CLAIM_STATUSES = {"pass", "fail", "inconclusive", "defective", "not evaluated", "report"}  # paperdag.claims


def smoke_claims(root: Path, paper: str) -> dict[str, dict[str, Any]]:
    """A paper's smoke-scale claims.json by claim id, after checking it lists the paper's
    claims (`claims(cfg)` of its smoke settings) in order and every status is a known one."""
    import json

    from paperdag.config import resolve_paper
    from paperdag.contract import paper_claims

    claims = json.loads((root / f"results/smoke/{paper}/claims.json").read_text())["claims"]
    config = yaml.safe_load((root / "config.yaml").read_text())
    expected = paper_claims(paper, resolve_paper(config, paper, "smoke"))
    assert [c["id"] for c in claims] == [c.id for c in expected]
    assert all(c["status"] in CLAIM_STATUSES for c in claims)
    return {c["id"]: c for c in claims}


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
        raise AssertionError(f"snakemake {' '.join(args)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc


def tree_hash(path: Path) -> str:
    """One digest of every file's relative path and bytes under `path`."""
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def edit_config(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply `edit` to the copy's config.yaml."""
    cfg_path = root / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    edit(cfg)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project, without results."""
    return copy_project(tmp_path / "project")


@pytest.fixture
def smoke_copy(smoke_project: Path, tmp_path: Path) -> Path:
    """A private copy of the finished smoke project, safe to edit and rerun."""
    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    return root


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the project with the full smoke-scale DAG already run (shared, read-only use)."""
    root = copy_project(tmp_path_factory.mktemp("smoke") / "project")
    snakemake(root, "--config", "scale=smoke")
    return root
