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
    inside: bool  # the argmin is an interior grid point
    grid_argmin: float
    largest_stable: float  # the largest grid LR with no diverged seed


def interpolated_optimum(lrs: Sequence[float], losses: Sequence[float], diverged: Sequence[bool] | None = None) -> Optimum:
    """Optimum of a loss-vs-LR curve on a log grid: vertex of the parabola through the argmin and its neighbours.

    `losses` are seed means; a diverged grid point counts as +inf. The vertex is clamped to
    the neighbours' interval. At an edge argmin the optimum is that edge and `inside` is False.
    """
    order = np.argsort(lrs)
    x = np.log(np.asarray(lrs, dtype=float)[order])
    y = np.asarray(losses, dtype=float)[order]
    div = np.zeros(len(x), bool) if diverged is None else np.asarray(diverged, bool)[order]
    y = np.where(div | ~np.isfinite(y), np.inf, y)
    stable = np.exp(x[~div]).max() if (~div).any() else float("nan")
    i = int(np.argmin(y))
    if i == 0 or i == len(x) - 1 or not np.isfinite(y[[i - 1, i + 1]]).all():
        return Optimum(float(np.exp(x[i])), False, float(np.exp(x[i])), float(stable))
    a, b, _ = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
    vertex = -b / (2 * a) if a > 0 else x[i]
    vertex = float(np.clip(vertex, x[i - 1], x[i + 1]))
    return Optimum(float(np.exp(vertex)), True, float(np.exp(x[i])), float(stable))


def optimum_from_runs(runs: pd.DataFrame, column: str = "val_loss") -> Optimum:
    """The optimum LR of one (source, width) sweep from its runs (mean over seeds per LR)."""
    g = runs.groupby("lr").agg(loss=(column, "mean"), diverged=("diverged", "any")).reset_index()
    return interpolated_optimum(g["lr"].to_numpy(), g["loss"].to_numpy(), g["diverged"].to_numpy())


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
