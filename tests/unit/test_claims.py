"""Claim evaluation: statuses, missing runs, scorecard and verify."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from paperdag.claims import (
    FAIL,
    NOT_EVALUATED,
    PASS,
    REPORT,
    Claim,
    MissingRuns,
    Outcome,
    evaluate_claims,
    failing_claims,
    write_claims,
)
from paperdag.scorecard import scorecard_data, scorecard_markdown

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
    assert "| p | low | result | a is small | 5.0 | a ≤ 1 | **fail** |  | none declared |" in text
    assert failing_claims([path]) == ["p/low: fail, measured 5.0, needs a ≤ 1"]
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/verify.py"), str(path)], capture_output=True, text=True)
    assert proc.returncode == 1 and "FAILED p/low" in proc.stderr
    write_claims(path, "p", "default", evaluate_claims(_claims()[1:], runs, "default"))
    proc = subprocess.run([sys.executable, str(ROOT / "workflow/scripts/verify.py"), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0


def _small(runs: pd.DataFrame) -> Outcome:
    value = float(runs["a"].max())
    return Outcome(value, value <= 1)


def test_gate_failure_makes_a_claim_inconclusive_never_pass_or_fail():
    from paperdag.claims import INCONCLUSIVE, Gate

    converged = Gate("converged", "change ≤ 1%", lambda r: Outcome(float(r["change"].max()), bool(r["change"].max() <= 0.01)))
    claim = Claim("low", "a is small", "a ≤ 1", _small, gates=(converged,))
    still_learning = pd.DataFrame({"a": [0.5], "change": [0.2]})
    result = evaluate_claims([claim], still_learning, "default")[0]
    assert result.status == INCONCLUSIVE and "converged" in result.detail and "says pass" in result.detail
    assert result.gates == [{"id": "converged", "value": 0.2, "threshold": "change ≤ 1%", "status": FAIL, "detail": ""}]
    assert evaluate_claims([claim], pd.DataFrame({"a": [0.5], "change": [0.0]}), "default")[0].status == PASS


def test_a_check_its_negative_control_passes_is_defective():
    from paperdag.claims import CAUGHT, DEFECTIVE, MISSED, Control

    runs = pd.DataFrame({"a": [0.5]})
    caught = Claim("low", "a is small", "a ≤ 1", _small, control=Control("a doubled and more", lambda r: r.assign(a=5.0)))
    result = evaluate_claims([caught], runs, "default")[0]
    assert result.status == PASS and result.negative_control["status"] == CAUGHT
    missed = Claim("low", "a is small", "a ≤ 1", _small, control=Control("a barely changed", lambda r: r.assign(a=0.6)))
    result = evaluate_claims([missed], runs, "default")[0]
    assert result.status == DEFECTIVE and result.negative_control == {
        "description": "a barely changed", "value": 0.6, "status": MISSED, "detail": ""}


def test_replication_score_weighs_result_claims_only():
    from paperdag.claims import replication_score

    claims = [{"kind": "result", "weight": 2.0, "status": "pass"}, {"kind": "result", "weight": 1.0, "status": "fail"},
              {"kind": "guard", "weight": 1.0, "status": "fail"}, {"kind": "report", "status": "report"},
              {"kind": "result", "weight": 5.0, "status": "not evaluated", "applies": False}]
    assert replication_score(claims) == 2 / 3
    assert replication_score([{"kind": "guard", "status": "pass"}]) is None


def test_compare_claims_tells_reproduced_drifted_and_changed_verdicts():
    from paperdag.claims import DRIFTED, NEW, REPRODUCED, VERDICT_CHANGED, compare_claims

    committed = {"claims": [{"id": "a", "status": "pass", "measured": 1.00}, {"id": "b", "status": "pass", "measured": 1.0},
                            {"id": "c", "status": "pass", "measured": 1.0, "spread": 0.5}]}
    fresh = {"claims": [{"id": "a", "status": "pass", "measured": 1.05}, {"id": "b", "status": "fail", "measured": 1.0},
                        {"id": "c", "status": "pass", "measured": 1.8}, {"id": "d", "status": "pass", "measured": 0.0}]}
    verdicts = {r["id"]: r["verdict"] for r in compare_claims(committed, fresh)}
    assert verdicts == {"a": REPRODUCED, "b": VERDICT_CHANGED, "c": REPRODUCED, "d": NEW}
    fresh["claims"][2]["measured"] = 2.5  # beyond two spreads
    assert {r["id"]: r["verdict"] for r in compare_claims(committed, fresh)}["c"] == DRIFTED
