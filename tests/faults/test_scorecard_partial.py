"""The scorecard written after failed jobs: a blocked paper's claims are never shown as passed."""
from __future__ import annotations

from pathlib import Path

from paperdag.claims import scorecard_markdown
from paperdag.io import write_json


def claims_file(root: Path, paper: str, statuses: dict[str, str]) -> Path:
    path = root / paper / "claims.json"
    write_json(path, {"paper": paper, "scale": "smoke", "claims": [
        {"id": cid, "statement": f"{cid} holds", "threshold": "t", "measured": 1.0, "status": status}
        for cid, status in statuses.items()]})
    return path


def rows(md: str, paper: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in md.splitlines() if line.startswith(f"| {paper} |")]


def test_stale_claims_of_a_blocked_paper_become_not_evaluated(tmp_path):
    stale = claims_file(tmp_path, "alpha", {"a1": "pass", "a2": "fail"})  # from an earlier, different run
    fresh = claims_file(tmp_path, "beta", {"b1": "pass"})
    md = scorecard_markdown([stale, fresh], blocked={"alpha": "report not run; unfinished jobs: alpha_train[m=x]"})
    assert [(r[1], r[3], r[-1]) for r in rows(md, "alpha")] == [("a1", "", "not evaluated"), ("a2", "", "not evaluated")]
    assert [(r[1], r[-1]) for r in rows(md, "beta")] == [("b1", "pass")]
    assert "Partial scorecard" in md and "alpha_train[m=x]" in md
    assert "Totals: 1 not evaluated" not in md and "2 not evaluated, 1 pass" in md


def test_blocked_paper_without_any_claims_file_gets_one_row(tmp_path):
    fresh = claims_file(tmp_path, "beta", {"b1": "pass"})
    md = scorecard_markdown([tmp_path / "alpha" / "claims.json", fresh], blocked={"alpha": "report not run"})
    assert [(r[1], r[-1]) for r in rows(md, "alpha")] == [("(all claims)", "not evaluated")]


def test_complete_scorecard_is_unchanged_without_blocked_papers(tmp_path):
    fresh = claims_file(tmp_path, "beta", {"b1": "pass"})
    md = scorecard_markdown([fresh])
    assert "Partial" not in md and [(r[1], r[-1]) for r in rows(md, "beta")] == [("b1", "pass")]
