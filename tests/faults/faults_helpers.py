"""Helpers of the fault tests: editable copies of the smoke-scale project, result hashes."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


import pytest

from conftest import edit_config, tree_hash  # noqa: E402,F401 (shared with the workflow tests)

RUN = Path("results/smoke/monge_gap/runs/gaussian/d2")


@pytest.fixture
def smoke_copy(smoke_project: Path, tmp_path: Path) -> Path:
    """A private copy of the finished smoke project, safe to edit and rerun."""
    root = tmp_path / "copy"
    shutil.copytree(smoke_project, root, symlinks=True)
    return root






def run_stage(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python workflow/scripts/stage.py ...` in `root`, with that copy's library."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "workflow/scripts/stage.py", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc
