"""Helpers of the fault tests (their fixtures live in tests/conftest.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RUN = Path("results/smoke/monge_gap/runs/gaussian/d2")


def run_stage(root: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python workflow/scripts/stage.py ...` in `root`, with that copy's library."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONHASHSEED": "0"}
    proc = subprocess.run([sys.executable, "workflow/scripts/stage.py", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc
