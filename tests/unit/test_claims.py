"""Claim evaluation: statuses, missing runs, scorecard and verify."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from paperdag.scorecard import scorecard_data, scorecard_markdown
from paperdag.claims import (FAIL, NOT_EVALUATED, PASS, REPORT, Claim, MissingRuns, Outcome, evaluate_claims,
                             failing_claims, write_claims)

ROOT = Path(__file__).resolve().parents[2]


def _claims():
    def needs_b(runs):
        if "b" not in set(runs["method"]):
            raise MissingRuns("no runs of b")
        return Outcome(1.0, True)

    return [
        Claim("low", "a is small", "a ≤ 1", lambda r: Outcome(float(r["a"].max()), bool(r["a"].max() <= 1))),
        Claim("paper_only", "only at paper scale", "-", lambda r: Outcome(0.0, True), scales=("paper",)),
        Claim("needs_b", "needs method b", "-", needs_b),
        Claim("reported", "a number", "reported", lambda r: Outcome(3.0, None)),
    ]


def test_statuses():
    runs = pd.DataFrame({"method": ["a", "a"], "a": [0.5, 2.0]})
    results = {r.id: r for r in evaluate_claims(_claims(), runs, "default")}
    assert results["low"].status == FAIL and results["low"].measured == 2.0
    assert results["paper_only"].status == NOT_EVALUATED
    assert results["needs_b"].status == NOT_EVALUATED and "no runs of b" in results["needs_b"].detail
    assert results["reported"].status == REPORT
    ok = {r.id: r for r in evaluate_claims(_claims(), pd.DataFrame({"method": ["b"], "a": [0.1]}), "default")}
    assert ok["low"].status == PASS and ok["needs_b"].status == PASS


def test_scorecard_and_verify(tmp_path):
    runs = pd.DataFrame({"method": ["a"], "a": [5.0]})
    path = tmp_path / "p" / "claims.json"
    write_claims(path, "p", "default", evaluate_claims(_claims(), runs, "default"))
    text = scorecard_markdown(scorecard_data([path]))
    assert "| p | low | a is small | 5.0 | a ≤ 1 | default | **fail** |" in text
    assert failing_claims([path]) == ["p/low: measured 5.0, needs a ≤ 1"]
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/verify.py"), str(path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "FAILED p/low" in proc.stderr
    write_claims(path, "p", "default", evaluate_claims(_claims()[1:], runs, "default"))
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/verify.py"), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0
