"""Pure analysis on run tables: LR optimum, its trend with width, the crossover, the learnability gate.

Used both by the stages (to tune a learning rate from validation runs) and by the claims.
Nothing here trains anything; every function is checked in the unit tests on constructed
curves with and without the effect.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


def seed_mean_se(values: Sequence[float]) -> tuple[float, float]:
    """Mean and standard error over seeds (SE is NaN for a single seed)."""
    x = np.asarray(values, dtype=float)
    se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")
    return float(x.mean()), se


def paired_diff(a: pd.DataFrame, b: pd.DataFrame, column: str) -> tuple[float, float]:
    """Mean and SE of a[column] − b[column] over the seeds both have (paired by seed)."""
    joined = a.set_index("seed")[column].to_frame("a").join(b.set_index("seed")[column].to_frame("b"), how="inner")
    if joined.empty:
        raise LookupError("no paired seeds")
    return seed_mean_se((joined["a"] - joined["b"]).to_numpy())


@dataclass(frozen=True)
class Optimum:
    lr: float  # interpolated optimum (the grid argmin when it sits on an edge)
    inside: bool  # the argmin is an interior grid point with finite (stable) neighbours
    grid_argmin: float
    largest_stable: float  # the largest LR above the argmin before the first unstable one
    limit_found: bool = False  # some LR above the argmin was unstable (else largest_stable is a lower bound)
    at_top: bool = False  # the argmin is the largest stable LR swept (the grid should grow upward)
    at_bottom: bool = False  # the argmin is the smallest LR swept

    @property
    def stability_ratio(self) -> float:
        """Largest stable LR over the optimum: how far the optimum sits below the stability limit."""
        return self.largest_stable / self.lr


def interpolated_optimum(lrs: Sequence[float], losses: Sequence[float], diverged: Sequence[bool] | None = None,
                        unstable: Sequence[bool] | None = None) -> Optimum:
    """Optimum of a loss-vs-LR curve on a log grid: vertex of the parabola through the argmin and its neighbours.

    `losses` are seed means; a diverged (non-finite) grid point counts as +inf. The vertex is
    clamped to the neighbours' interval. At an edge argmin the optimum is that edge and
    `inside` is False. The stability limit is read upward from the argmin: the last LR before
    the first diverged or `unstable` one (unstable flags do not move the optimum).
    """
    order = np.argsort(lrs)
    x = np.log(np.asarray(lrs, dtype=float)[order])
    y = np.asarray(losses, dtype=float)[order]
    div = np.zeros(len(x), bool) if diverged is None else np.asarray(diverged, bool)[order]
    bad = div | (np.zeros(len(x), bool) if unstable is None else np.asarray(unstable, bool)[order])
    y = np.where(div | ~np.isfinite(y), np.inf, y)
    i = int(np.argmin(y))
    above = np.flatnonzero(bad[i + 1:] | ~np.isfinite(y[i + 1:]))
    limit_found = bool(len(above)) and bool(np.isfinite(y[i]))
    j = i + int(above[0]) if limit_found else len(x) - 1
    stable = float(np.exp(x[j])) if np.isfinite(y[i]) else float("nan")
    flags = dict(limit_found=limit_found, at_top=bool(i == j), at_bottom=i == 0)
    if i == 0 or i == len(x) - 1 or not np.isfinite(y[[i - 1, i, i + 1]]).all():
        return Optimum(float(np.exp(x[i])), False, float(np.exp(x[i])), stable, **flags)
    a, b, _ = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
    vertex = -b / (2 * a) if a > 0 else x[i]
    vertex = float(np.clip(vertex, x[i - 1], x[i + 1]))
    return Optimum(float(np.exp(vertex)), True, float(np.exp(x[i])), stable, **flags)


def lr_curve(runs: pd.DataFrame, column: str = "val_loss") -> pd.DataFrame:
    """Per LR of one sweep: seed-mean loss, any seed diverged, any seed unstable.

    A run is unstable when it ends nearer the uniform predictor's loss ln V than the sweep's
    best seed-mean loss (`instability_threshold`): training broke rather than fell short. Runs
    without a `vocab` column fall back to a stored `unstable` flag, else divergence only.
    """
    div = runs["diverged"].astype(bool) | ~np.isfinite(runs[column].astype(float))
    g = runs.assign(_div=div).groupby("lr").agg(loss=(column, "mean"), diverged=("_div", "any")).reset_index()
    if "vocab" in runs and runs["vocab"].notna().any():
        finite = g.loc[~g["diverged"], "loss"]
        thr = instability_threshold(float(finite.min()) if len(finite) else float("nan"), int(runs["vocab"].max()))
        bad = div | (runs[column].astype(float) >= thr)
    elif "unstable" in runs:
        bad = div | runs["unstable"].fillna(False).astype(bool)
    else:
        bad = div
    g["unstable"] = runs.assign(_bad=bad).groupby("lr")["_bad"].any().to_numpy()
    return g


def optimum_from_runs(runs: pd.DataFrame, column: str = "val_loss") -> Optimum:
    """The optimum LR of one (source, width) sweep from its runs (mean over seeds per LR; an LR
    with any diverged seed counts as diverged, with any unstable seed as unstable)."""
    g = lr_curve(runs, column)
    return interpolated_optimum(g["lr"].to_numpy(), g["loss"].to_numpy(), g["diverged"].to_numpy(), g["unstable"].to_numpy())


def instability_threshold(best_loss: float, vocab: int) -> float:
    """Halfway between the sweep's best loss and the uniform predictor's ln V: a run that ends
    above it has lost most of what the best run learned (the bigram entropy is no yardstick here:
    the smallest models do not beat it)."""
    return 0.5 * (best_loss + math.log(vocab)) if math.isfinite(best_loss) else -math.inf


def is_unstable(val_loss: float, diverged: bool, threshold: float) -> bool:
    return bool(diverged) or not math.isfinite(val_loss) or val_loss >= threshold


def next_lrs(lrs: Sequence[float], losses: Sequence[float], unstable: Sequence[bool], *, step: float, cap: float,
             floor: float) -> list[float]:
    """The LRs a self-extending sweep adds next (empty: it is done).

    One geometric step up while no LR above the optimum has been unstable yet (the stability
    limit is not found; this covers an optimum on the top edge), as long as it stays ≤ `cap`; one step down
    while the optimum is the smallest LR swept, as long as it stays ≥ `floor`.
    """
    opt = interpolated_optimum(lrs, losses, unstable=unstable)
    top, bottom = max(lrs), min(lrs)
    top_unstable = bool(np.asarray(unstable, bool)[int(np.argmax(lrs))])
    out = []
    if opt.at_bottom and bottom / step >= floor * (1 - 1e-9):
        out.append(bottom / step)
    if not opt.limit_found and not top_unstable and top * step <= cap * (1 + 1e-9):
        out.append(top * step)
    return out


@dataclass(frozen=True)
class SlopeFit:
    slope: float
    lo: float  # 95% interval of the slope (OLS, t distribution with n−2 dof)
    hi: float
    n: int


def loglog_slope(x: Sequence[float], y: Sequence[float], level: float = 0.95) -> SlopeFit:
    """Least-squares slope of log y against log x with its confidence interval."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    n = len(lx)
    if n < 3:
        raise ValueError("need at least 3 points for a slope with an interval")
    res = stats.linregress(lx, ly)
    t = stats.t.ppf(0.5 + level / 2, n - 2)
    return SlopeFit(float(res.slope), float(res.slope - t * res.stderr), float(res.slope + t * res.stderr), n)


@dataclass(frozen=True)
class Crossover:
    widths: list[int]
    delta: list[float]  # L_const − L_scaled, mean over paired seeds
    se: list[float]
    spearman: float


def crossover_curve(runs: pd.DataFrame, column: str = "test_loss") -> Crossover:
    """Δ(D) = L_const − L_scaled per width (paired by seed) and its Spearman correlation with log D.

    `runs` has columns width, rule ('const' / 'scaled'), seed and `column`.
    """
    widths, delta, se = [], [], []
    for width, g in sorted(runs.groupby("width"), key=lambda kv: kv[0]):
        d, s = paired_diff(g[g["rule"] == "const"], g[g["rule"] == "scaled"], column)
        widths.append(int(width))
        delta.append(d)
        se.append(s)
    rho = float(stats.spearmanr(np.log(widths), delta).statistic) if len(widths) > 2 else float("nan")
    return Crossover(widths, delta, se, rho)


@dataclass(frozen=True)
class Gate:
    learnable: bool
    best_loss: float
    order1_entropy: float
    margin: float

    @property
    def reason(self) -> str:
        return (f"best held-out loss {self.best_loss:.4f} vs order-1 entropy {self.order1_entropy:.4f} "
                f"(needs ≤ {self.order1_entropy - self.margin:.4f})")


def learnability_gate(losses: Sequence[float], order1_entropy: float, margin: float) -> Gate:
    """The source is learnable if the best model beats the best bigram predictor by `margin` nats."""
    finite = [v for v in losses if math.isfinite(v)]
    best = min(finite) if finite else float("inf")
    return Gate(best <= order1_entropy - margin, best, order1_entropy, margin)


def relative_gap(val: float, train: float) -> float:
    """|validation − train| / validation."""
    return abs(val - train) / val
