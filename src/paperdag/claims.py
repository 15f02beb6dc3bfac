"""Claims: what a paper states, how to measure it, and the verdict at a given scale.

A paper declares its claims in code as `Claim` objects. `evaluate` receives the
paper's table of runs (one row per run, from the metrics the pipeline computed) and
returns an `Outcome`. Nothing here knows any number in advance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from paperdag.io import read_json, write_json, write_text

PASS, FAIL, NOT_EVALUATED, REPORT = "pass", "fail", "not evaluated", "report"


class NotEvaluated(Exception):
    """A claim cannot be judged from these runs; the message says why (e.g. a failed gate)."""


class MissingRuns(NotEvaluated, LookupError):
    """The runs a claim needs are absent (failed, diverged, or not configured)."""


@dataclass(frozen=True)
class Outcome:
    measured: float | str
    passed: bool | None  # None: a reported number with no pass/fail
    detail: str = ""


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    threshold: str
    evaluate: Callable[[pd.DataFrame], Outcome]
    scales: Sequence[str] = ("default", "paper")
    paper_value: str = ""  # the paper's own number, where the protocol gives one


@dataclass
class ClaimResult:
    id: str
    statement: str
    threshold: str
    measured: float | str | None
    status: str
    detail: str = ""
    paper_value: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _fmt(value: float | str | None) -> float | str | None:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def evaluate_claims(claims: Iterable[Claim], runs: pd.DataFrame, scale: str) -> list[ClaimResult]:
    """Evaluate each claim that applies at `scale`; the others are 'not evaluated'."""
    results = []
    for claim in claims:
        base = dict(id=claim.id, statement=claim.statement, threshold=claim.threshold, paper_value=claim.paper_value)
        if scale not in claim.scales:
            results.append(ClaimResult(**base, measured=None, status=NOT_EVALUATED,
                                       detail=f"applies at {', '.join(claim.scales)} scale only"))
            continue
        try:
            outcome = claim.evaluate(runs)
        except MissingRuns as err:
            results.append(ClaimResult(**base, measured=None, status=NOT_EVALUATED, detail=f"missing runs: {err}"))
            continue
        except NotEvaluated as err:
            results.append(ClaimResult(**base, measured=None, status=NOT_EVALUATED, detail=str(err)))
            continue
        except KeyError as err:
            results.append(ClaimResult(**base, measured=None, status=NOT_EVALUATED, detail=f"missing metric or runs: {err}"))
            continue
        status = REPORT if outcome.passed is None else (PASS if outcome.passed else FAIL)
        results.append(ClaimResult(**base, measured=_fmt(outcome.measured), status=status, detail=outcome.detail))
    return results


def write_claims(path: Path, paper: str, scale: str, results: Sequence[ClaimResult]) -> None:
    write_json(path, {"paper": paper, "scale": scale, "claims": [r.__dict__ for r in results]})


def blocked_papers(reports: Mapping[str, tuple[str, Sequence[str]]]) -> dict[str, str]:
    """Papers whose claims.json does not reflect their runs, with why: read from files alone.

    `reports` maps a paper to (its claims.json, the files its report reads). A paper is
    blocked when runs are missing (a job failed or never ran), or when claims.json is
    missing or older than a run it reads (its report has not run since).
    """
    blocked = {}
    for paper, (claims, needed) in reports.items():
        missing = [f for f in needed if not Path(f).exists()]
        if missing:
            shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
            blocked[paper] = f"report not run; missing: {shown}"
        elif not Path(claims).exists():
            blocked[paper] = "report not run"
        elif needed and max(Path(f).stat().st_mtime for f in needed) > Path(claims).stat().st_mtime:
            blocked[paper] = "report not run since its runs changed"
    return blocked


def failing_claims(claim_files: Sequence[Path]) -> list[str]:
    """'paper/claim (measured vs threshold)' for every claim that failed."""
    failed = []
    for path in claim_files:
        data = read_json(path)
        failed += [f"{data['paper']}/{c['id']}: measured {c['measured']}, needs {c['threshold']}"
                   for c in data["claims"] if c["status"] == FAIL]
    return failed
