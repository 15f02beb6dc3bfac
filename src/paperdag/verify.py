"""Verify claims: a non-zero exit when an applicable claim failed, or when a verdict changed
against the claims.json committed at a git revision. Used by `paperdag verify`, `paperdag diff`
and the Snakemake rule `verify` (`workflow/scripts/verify.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from paperdag.claims import VERDICT_CHANGED, compare_claims, failing_claims
from paperdag.io import read_json


def verify_files(paths: Sequence[str | Path], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Print every claim that failed, is inconclusive or defective; 1 if any, else 0."""
    out, err = out or sys.stdout, err or sys.stderr
    failed = failing_claims([Path(p) for p in paths])
    for line in failed:
        print(f"FAILED {line}", file=err)
    print(f"{len(failed)} claim(s) failed across {len(paths)} paper(s)", file=out)
    return 1 if failed else 0


def claims_at(rev: str, path: str | Path, cwd: str | Path = ".") -> dict[str, Any] | None:
    """The claims.json at `path` (relative to `cwd`) as committed at git revision `rev`; None if
    it did not exist there. A bad revision raises ValueError with git's message."""
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], cwd=cwd, capture_output=True, text=True
    )
    if check.returncode != 0:
        raise ValueError(f"not a git revision here: {rev!r}")
    shown = subprocess.run(["git", "show", f"{rev}:./{Path(path).as_posix()}"], cwd=cwd, capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def verify_against(
    rev: str, paths: Sequence[str | Path], rel_tol: float = 0.1, cwd: str | Path = ".", out: TextIO | None = None
) -> int:
    """Each fresh claim against the one committed at `rev`: reproduced, drifted or verdict changed
    (`paperdag.claims.compare_claims`); 1 if any verdict changed."""
    out = out or sys.stdout
    changed = 0
    for path in paths:
        committed = claims_at(rev, path, cwd) or {"claims": []}
        fresh = read_json(Path(cwd) / path)
        for row in compare_claims(committed, fresh, rel_tol):
            changed += row["verdict"] == VERDICT_CHANGED
            print(f"{fresh['paper']}/{row['id']}: {row['verdict']} ({row['detail']})", file=out)
    print(f"{changed} verdict(s) changed against {rev}", file=out)
    return 1 if changed else 0
