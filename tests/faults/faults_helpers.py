"""Helpers of the fault tests: editable copies of the smoke-scale project, result hashes."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

RUN = Path("results/smoke/monge_gap/runs/gaussian/d2")


@pytest.fixture
def smoke_copy(smoke_project: Path, tmp_path: Path) -> Path:
    """A private copy of the finished smoke project, safe to edit and rerun."""
    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    return root


def tree_hash(path: Path) -> str:
    """One digest of every file's relative path and bytes under `path`."""
    digest = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(f.relative_to(path)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def edit_config(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    cfg_path = root / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    edit(cfg)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))


def run_stage(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python workflow/scripts/stage.py ...` in `root`, with that copy's library."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "workflow/scripts/stage.py", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc
