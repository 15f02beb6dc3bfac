"""The scorecard written after failed jobs: a blocked paper's claims are never shown as passed."""
from __future__ import annotations

from pathlib import Path

from paperdag.io import write_json
from paperdag.scorecard import scorecard_data, scorecard_markdown


def claims_file(root: Path, paper: str, statuses: dict[str, str]) -> Path:
    path = root / paper / "claims.json"
    write_json(path, {"paper": paper, "scale": "smoke", "claims": [
        {"id": cid, "statement": f"{cid} holds", "threshold": "t", "measured": 1.0, "status": status}
        for cid, status in statuses.items()]})
    return path


def statuses(data: dict, paper: str) -> list[tuple[str, object, str]]:
    return [(c["id"], c["measured"], c["status"]) for c in data["papers"][paper]["claims"]]


def test_stale_claims_of_a_blocked_paper_become_not_evaluated(tmp_path):
    stale = claims_file(tmp_path, "alpha", {"a1": "pass", "a2": "fail"})  # from an earlier, different run
    fresh = claims_file(tmp_path, "beta", {"b1": "pass"})
    data = scorecard_data([stale, fresh], blocked={"alpha": "report not run; missing: alpha/runs/x"})
    assert statuses(data, "alpha") == [("a1", None, "not evaluated"), ("a2", None, "not evaluated")]
    assert statuses(data, "beta") == [("b1", 1.0, "pass")]
    assert data["totals"] == {"not evaluated": 2, "pass": 1}
    md = scorecard_markdown(data)
    assert "Partial scorecard" in md and "alpha/runs/x" in md and "2 not evaluated, 1 pass" in md


def test_blocked_paper_without_any_claims_file_gets_one_row(tmp_path):
    fresh = claims_file(tmp_path, "beta", {"b1": "pass"})
    data = scorecard_data([tmp_path / "alpha" / "claims.json", fresh], blocked={"alpha": "report not run"})
    assert data["papers"]["alpha"]["claims"] == [] and data["totals"] == {"not evaluated": 1, "pass": 1}
    assert "| alpha | (all claims) |  | report not run |" in scorecard_markdown(data)


def test_complete_scorecard_is_unchanged_without_blocked_papers(tmp_path):
    fresh = claims_file(tmp_path, "beta", {"b1": "pass"})
    data = scorecard_data([fresh])
    assert not data["blocked"] and statuses(data, "beta") == [("b1", 1.0, "pass")]
    assert "Partial" not in scorecard_markdown(data)
