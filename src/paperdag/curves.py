"""Training curves: stored with each run, drawn in the report, read by the convergence gate.

A run's metrics.json holds `curve` = {"step", "train_loss", "val_step", "val"} (from
`paperdag.training.History.curve`). Convergence is judged on the validation metric: its
change over the last fifth of training, |v(T) − v(0.8 T)|, must be below a relative
tolerance (of |v(T)|) or, for values near zero where a relative change is noise, below an
absolute one; both are declared in config before the run.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paperdag.claims import Gate, MissingRuns, Outcome

TAIL = 0.2  # the last fifth of training


def tail_delta(steps: Sequence[float], values: Sequence[float], tail: float = TAIL) -> float:
    """|v(T) − v(T − tail·T)|, v interpolated linearly between logged steps."""
    steps, values = np.asarray(steps, float), np.asarray(values, float)
    if len(steps) < 2:
        return float("nan")
    start = steps[-1] - tail * (steps[-1] - steps[0])
    return float(abs(values[-1] - float(np.interp(start, steps, values))))


def tail_change(steps: Sequence[float], values: Sequence[float], tail: float = TAIL) -> float:
    """|v(T) − v(T − tail·T)| / |v(T)|."""
    return tail_delta(steps, values, tail) / max(abs(float(values[-1])), 1e-12)


def unconverged(runs: pd.DataFrame, tolerance: float, abs_tolerance: float) -> list[tuple[float, str]]:
    """(relative tail change, run) of every run whose validation curve moved by more than both
    tolerances over the last fifth of training."""
    if "curve" not in runs or not len(runs):
        raise MissingRuns("no training curves recorded")
    found, curves = [], 0
    for _, row in runs.iterrows():
        curve = row["curve"]
        if not (isinstance(curve, dict) and curve.get("val")):
            continue
        curves += 1
        delta, rel = tail_delta(curve["val_step"], curve["val"]), tail_change(curve["val_step"], curve["val"])
        if rel > tolerance and delta > abs_tolerance:
            label = " ".join(f"{k}={row[k]}" for k in ("benchmark", "dim", "method", "seed") if k in row)
            found.append((rel, label))
    if not curves:
        raise MissingRuns("no validation curves recorded")
    return sorted(found, reverse=True)


def convergence_gate(select: Any, tolerance: float, abs_tolerance: float, metric: str) -> Gate:
    """A gate: every run `select(runs)` returns has converged. Its value is the largest relative
    tail change among the runs that moved by more than both tolerances (0 when none did)."""

    def evaluate(runs: pd.DataFrame) -> Outcome:
        moving = unconverged(select(runs), tolerance, abs_tolerance)
        if not moving:
            return Outcome(0.0, True, "every run converged")
        return Outcome(moving[0][0], False, f"{len(moving)} run(s) still moving, most at {moving[0][1]}")

    return Gate("converged", f"{metric} changes ≤ {tolerance:g} relative or ≤ {abs_tolerance:g} absolute over the "
                "last fifth of training", evaluate)


def curves_frame(runs: pd.DataFrame, id_columns: Sequence[str]) -> pd.DataFrame:
    """Long table of validation curves: one row per (run, logged step)."""
    rows = []
    for _, run in runs.iterrows():
        curve = run.get("curve")
        if not isinstance(curve, dict):
            continue
        for step, value in zip(curve.get("val_step", []), curve.get("val", [])):
            rows.append({**{c: run[c] for c in id_columns}, "step": step, "value": value})
    return pd.DataFrame(rows)


def curves_figure(runs: pd.DataFrame, stem: Path, *, hue: str, col: str | None, run_id: Sequence[str],
                  ylabel: str, log_y: bool = True) -> None:
    """Validation metric against step, one line per run (seeds share a colour)."""
    from paperdag.figures import save_figure, sns

    frame = curves_frame(runs, [hue, *([col] if col else []), *run_id])
    if frame.empty:
        frame = pd.DataFrame({hue: [], "step": [], "value": [], **({col: []} if col else {})})
    frame["run"] = frame[list(run_id)].astype(str).agg(" ".join, axis=1) if len(frame) else []
    grid = sns.relplot(data=frame, x="step", y="value", hue=hue, units="run", estimator=None, col=col, kind="line",
                       height=3.0, aspect=1.2, facet_kws={"sharey": False}, linewidth=0.8)
    grid.set(ylabel=ylabel, xlabel="optimiser step")
    if log_y:
        grid.set(yscale="log")
    save_figure(grid.figure, stem)
