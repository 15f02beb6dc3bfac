"""Claims: what a paper states, how to measure it, and the verdict at a given scale.

A paper declares its claims in code as `Claim` objects. `evaluate` receives the
paper's table of runs (one row per run, from the metrics the pipeline computed) and
returns an `Outcome`. Nothing here knows any number in advance.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from paperdag.io import read_json, write_json

PASS, FAIL, NOT_EVALUATED, REPORT = "pass", "fail", "not evaluated", "report"
INCONCLUSIVE, DEFECTIVE = "inconclusive", "defective"  # a gate failed; the negative control was missed
CAUGHT, MISSED = "caught", "missed"
RESULT, GUARD = "result", "guard"  # claim kinds; "report": a number shown without a verdict


class NotEvaluated(Exception):
    """A claim cannot be judged from these runs; the message says why."""


class MissingRuns(NotEvaluated, LookupError):
    """The runs a claim needs are absent (failed, diverged, or not configured)."""


@dataclass(frozen=True)
class Outcome:
    """A measured value and its verdict; `spread` is its seed spread (standard error or sd, as
    `detail` says) and `margin_se` the verdict's distance from the threshold in standard errors."""

    measured: float | str
    passed: bool | None  # None: a reported number with no pass/fail
    detail: str = ""
    spread: float | None = None
    margin_se: float | None = None


@dataclass(frozen=True)
class Gate:
    """An adequacy condition on the runs, declared before they ran (convergence, grid
    adequacy, trivial baselines beaten, enough samples): if it fails, the claim is
    `inconclusive`, never silently passed or failed."""

    id: str
    threshold: str
    evaluate: Callable[[pd.DataFrame], Outcome]


@dataclass(frozen=True)
class Control:
    """The claim's negative control: the closest plausible failure of what it asserts, given as
    the runs transformed into that failure (e.g. the identity map in place of the method). The
    claim's own check must fail on it; if it passes, the check could not have failed: defective."""

    description: str
    runs: Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    threshold: str
    evaluate: Callable[[pd.DataFrame], Outcome]
    scales: Sequence[str] = ("default", "paper")
    paper_value: str = ""  # the paper's own number, where the protocol gives one
    kind: str = RESULT  # result (a claim of the paper) or guard (a check of our setup)
    weight: float = 1.0  # its share of the paper's replication score (result claims)
    gates: Sequence[Gate] = ()
    control: Control | None = None
    tolerance: str = ""  # how close to paper_value counts as reproduced, at paper scale


@dataclass
class ClaimResult:
    id: str
    statement: str
    threshold: str
    measured: float | str | None
    status: str
    detail: str = ""
    paper_value: str = ""
    kind: str = RESULT
    weight: float = 1.0
    applies: bool = True  # False: the claim does not apply at this scale
    spread: float | None = None
    margin_se: float | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    negative_control: dict[str, Any] | None = None
    tolerance: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _fmt(value: float | str | None) -> float | str | None:
    if isinstance(value, float):
        return float(f"{value:.6g}")
    return value


def _attempt(fn: Callable[[pd.DataFrame], Outcome], runs: pd.DataFrame) -> Outcome | str:
    """The outcome, or why it could not be computed."""
    try:
        return fn(runs)
    except MissingRuns as err:
        return f"missing runs: {err}"
    except NotEvaluated as err:
        return str(err)
    except KeyError as err:
        return f"missing metric or runs: {err}"


def _gate_records(claim: Claim, runs: pd.DataFrame) -> list[dict[str, Any]]:
    records = []
    for gate in claim.gates:
        out = _attempt(gate.evaluate, runs)
        if isinstance(out, str):
            records.append({"id": gate.id, "value": None, "threshold": gate.threshold, "status": NOT_EVALUATED,
                            "detail": out})
        else:
            records.append({"id": gate.id, "value": _fmt(out.measured), "threshold": gate.threshold,
                            "status": PASS if out.passed else FAIL, "detail": out.detail})
    return records


def _control_record(claim: Claim, runs: pd.DataFrame) -> dict[str, Any] | None:
    if claim.control is None:
        return None
    out = _attempt(claim.evaluate, claim.control.runs(runs))
    if isinstance(out, str):  # the check cannot even be computed on its control: it cannot have failed there
        return {"description": claim.control.description, "value": None, "status": MISSED, "detail": out}
    return {"description": claim.control.description, "value": _fmt(out.measured),
            "status": CAUGHT if out.passed is False else MISSED, "detail": out.detail}


def evaluate_claim(claim: Claim, runs: pd.DataFrame, scale: str) -> ClaimResult:
    """One claim at `scale`: its gates, its check, then its check on its negative control.

    Status: `not evaluated` (does not apply here, or its runs are missing), `inconclusive`
    (a gate failed: these runs cannot decide it), `defective` (its control passed the same
    check), else `pass`/`fail`, or `report` for a number shown without a verdict.
    """
    base = dict(id=claim.id, statement=claim.statement, threshold=claim.threshold, paper_value=claim.paper_value,
                kind=claim.kind, weight=claim.weight, tolerance=claim.tolerance)
    if scale not in claim.scales:
        return ClaimResult(**base, measured=None, status=NOT_EVALUATED, applies=False,
                           detail=f"applies at {', '.join(claim.scales)} scale only")
    out = _attempt(claim.evaluate, runs)
    if isinstance(out, str):
        return ClaimResult(**base, measured=None, status=NOT_EVALUATED, detail=out)
    result = ClaimResult(**base, measured=_fmt(out.measured), status=PASS, detail=out.detail,
                         spread=_fmt(out.spread), margin_se=_fmt(out.margin_se))
    if out.passed is None or claim.kind == REPORT:  # a number shown without a verdict
        result.status, result.kind = REPORT, REPORT
        return result
    result.gates = _gate_records(claim, runs)
    result.negative_control = _control_record(claim, runs)
    verdict = PASS if out.passed else FAIL
    failed_gates = [g["id"] for g in result.gates if g["status"] != PASS]
    if failed_gates:
        result.status = INCONCLUSIVE
        result.detail = f"gate(s) not met: {', '.join(failed_gates)}; the check alone says {verdict}. {out.detail}"
    elif result.negative_control is not None and result.negative_control["status"] == MISSED:
        result.status = DEFECTIVE
        result.detail = f"its negative control also passes the check; the check alone says {verdict}. {out.detail}"
    else:
        result.status = verdict
    return result


def evaluate_claims(claims: Iterable[Claim], runs: pd.DataFrame, scale: str) -> list[ClaimResult]:
    """Evaluate each claim at `scale` (see `evaluate_claim`)."""
    return [evaluate_claim(claim, runs, scale) for claim in claims]


def replication_score(claims: Sequence[Mapping[str, Any]]) -> float | None:
    """Weighted share of a paper's result claims that apply at this scale and pass (None if none apply)."""
    results = [c for c in claims if c.get("kind", RESULT) == RESULT and c.get("applies", True)]
    total = sum(float(c.get("weight", 1.0)) for c in results)
    if not total:
        return None
    return sum(float(c.get("weight", 1.0)) for c in results if c["status"] == PASS) / total


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
    """'paper/claim: status, measured vs threshold' for every claim that failed, is inconclusive
    (a gate failed) or defective (its negative control passed)."""
    failed = []
    for path in claim_files:
        data = read_json(path)
        failed += [f"{data['paper']}/{c['id']}: {c['status']}, measured {c['measured']}, needs {c['threshold']}"
                   for c in data["claims"] if c["status"] in (FAIL, INCONCLUSIVE, DEFECTIVE)]
    return failed


REPRODUCED, VERDICT_CHANGED, DRIFTED, NEW = "reproduced", "verdict changed", "drifted", "new"


def compare_claims(committed: Mapping[str, Any], fresh: Mapping[str, Any], rel_tol: float = 0.1) -> list[dict[str, Any]]:
    """Per claim of a fresh claims.json against a committed one: `reproduced` (same status, the
    value within `rel_tol` relative or two seed spreads), `verdict changed`, `drifted` (same
    status, value outside tolerance), or `new`. Byte-identical reruns hold only on the same CPU."""
    old = {c["id"]: c for c in committed.get("claims", [])}
    out = []
    for c in fresh["claims"]:
        before = old.get(c["id"])
        if before is None:
            out.append({"id": c["id"], "verdict": NEW, "status": c["status"], "detail": "not in the committed claims"})
            continue
        a, b = before.get("measured"), c.get("measured")
        if before["status"] != c["status"]:
            verdict = VERDICT_CHANGED
        elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
            spread = max(float(before.get("spread") or 0), float(c.get("spread") or 0))
            verdict = REPRODUCED if abs(a - b) <= max(rel_tol * abs(a), 2 * spread, 1e-12) else DRIFTED
        else:
            verdict = REPRODUCED if a == b else DRIFTED
        out.append({"id": c["id"], "verdict": verdict, "status": c["status"],
                    "detail": f"{before['status']} → {c['status']}; measured {a} → {b}"})
    return out
