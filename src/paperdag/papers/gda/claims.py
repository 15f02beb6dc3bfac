"""The GDA claims (issue #8, protocol §5), with thresholds fixed in advance.

The paper's own tables were not available to the protocol's authors: the bGMM checks encode
the paper's qualitative statements (no faster rate; a constant-factor gain when d/m is large;
a plateau in γ), with the protocol's tolerances. The digits experiment is reported, not
asserted. The CIFAR-10 checks apply at paper scale only; their statements come from the
protocol's recollection of the paper's §5, marked there as unverified against the paper. The
`base`-augmentation check is evaluated on the cDCGAN runs; the StyleGAN2-ADA check stays
`not evaluated` (that generator is not built).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from paperdag.claims import Claim, MissingRuns, Outcome
from paperdag.papers.gda.bgmm import loglog_slope

SLOPE_TOL = 0.1
RATIO_LOW, RATIO_HIGH = 0.8, 1.25
HIGH_D_MIN, HIGH_D_GAMMA, HIGH_D_RATIO = 20, 50, 0.6
MONOTONE_SLACK, PLATEAU_TOL = 0.05, 0.10
PLATEAU_D, PLATEAU_M = 50, 10


def _sim(runs: pd.DataFrame, panel: str) -> pd.DataFrame:
    if not len(runs) or "panel" not in runs:
        raise MissingRuns("no bGMM runs")
    sub = runs[(runs["experiment"] == "bgmm") & (runs["panel"] == panel)]
    if not len(sub):
        raise MissingRuns(f"no bGMM runs in panel '{panel}'")
    return sub


def _gap_table(sub: pd.DataFrame, index: str) -> pd.DataFrame:
    """Mean gap with `index` (m or d) as rows and γ as columns."""
    table = sub.pivot_table(index=index, columns="gamma", values="gap_mean")
    if 0 not in table.columns:
        raise MissingRuns("no γ = 0 baseline")
    return table


def _d1_table(runs: pd.DataFrame) -> pd.DataFrame:
    sub = _sim(runs, "m_sweep")
    table = _gap_table(sub[sub["d"] == 1], "m")
    if len(table) < 2:
        raise MissingRuns("the d = 1 sweep needs at least two values of m")
    return table


def slopes_d1(runs: pd.DataFrame) -> pd.Series:
    """Fitted log-log slope of the gap against m at d = 1, one per γ."""
    table = _d1_table(runs)
    return pd.Series({g: loglog_slope(table.index, table[g]) for g in table.columns}, name="slope")


def no_faster_rate(runs: pd.DataFrame) -> Outcome:
    slopes = slopes_d1(runs)
    diff = (slopes.drop(0) - slopes[0]).abs()
    return Outcome(
        float(diff.max()),
        bool((diff <= SLOPE_TOL).all()),
        f"slope(γ=0) = {slopes[0]:.3f}; " + ", ".join(f"γ={int(g)}: {s:.3f}" for g, s in slopes.drop(0).items()),
    )


def gap_ratio_d1(runs: pd.DataFrame) -> Outcome:
    table = _d1_table(runs)
    ratio = table.drop(columns=0).div(table[0], axis=0)
    worst = ratio.stack()
    key = (np.log(worst)).abs().idxmax()
    ok = bool(((worst >= RATIO_LOW) & (worst <= RATIO_HIGH)).all())
    return Outcome(
        float(worst[key]),
        ok,
        f"furthest from 1 at m={int(key[0])}, γ={int(key[1])}; range "
        f"[{worst.min():.3f}, {worst.max():.3f}] over {len(worst)} (m, γ) cells",
    )


def _d_sweep(runs: pd.DataFrame) -> pd.DataFrame:
    sub = _sim(runs, "d_sweep")
    if sub["m"].nunique() != 1:
        raise MissingRuns("the d sweep should use a single m")
    return _gap_table(sub, "d")


def high_d_reduction(runs: pd.DataFrame) -> Outcome:
    table = _d_sweep(runs)
    table = table[table.index >= HIGH_D_MIN]
    if HIGH_D_GAMMA not in table.columns or not len(table):
        raise MissingRuns(f"no d ≥ {HIGH_D_MIN} runs at γ = {HIGH_D_GAMMA}")
    ratio = table[HIGH_D_GAMMA] / table[0]
    return Outcome(
        float(ratio.max()), bool((ratio <= HIGH_D_RATIO).all()), ", ".join(f"d={int(d)}: {r:.3f}" for d, r in ratio.items())
    )


def plateau_in_gamma(runs: pd.DataFrame) -> Outcome:
    sub = _sim(runs, "gamma_sweep")
    curve = sub[(sub["d"] == PLATEAU_D) & (sub["m"] == PLATEAU_M)].sort_values("gamma")["gap_mean"].to_numpy()
    if len(curve) < 3:
        raise MissingRuns(f"the γ sweep at d={PLATEAU_D}, m={PLATEAU_M} needs at least three γ values")
    rises = curve[1:] / curve[:-1] - 1
    last = abs(curve[-1] - curve[-2]) / curve[-2]
    ok = bool(rises.max() <= MONOTONE_SLACK and last <= PLATEAU_TOL)
    return Outcome(
        float(last), ok, f"largest rise between successive γ: {rises.max():+.3f}; gaps " + ", ".join(f"{v:.3f}" for v in curve)
    )


def gain_grows_with_d(runs: pd.DataFrame) -> Outcome:
    table = _d_sweep(runs)
    g_max = max(table.columns)
    if len(table) < 2 or g_max == 0:
        raise MissingRuns("the d sweep needs two dimensions and a γ > 0")
    gain = 1 - table[g_max] / table[0]
    steps = np.diff(gain.to_numpy())
    return Outcome(
        float(steps.min()),
        bool((steps > 0).all()),
        f"relative gain 1 − gap(γ={int(g_max)})/gap(0): " + ", ".join(f"d={int(d)}: {v:.3f}" for d, v in gain.items()),
    )


def largest_d_gap_reduced(runs: pd.DataFrame) -> Outcome:
    table = _d_sweep(runs)
    row = table.loc[table.index.max()]
    g_max = max(table.columns)
    ratio = float(row[g_max] / row[0])
    return Outcome(ratio, ratio < 1.0, f"d={int(table.index.max())}, gap(γ={int(g_max)}) / gap(γ=0)")


def zero_one_not_improved(runs: pd.DataFrame) -> Outcome:
    sub = _sim(runs, "d_sweep")
    big = sub[sub["d"] == sub["d"].max()].set_index("gamma")["test_err_mean"].sort_index()
    return Outcome(
        f"{big.iloc[0]:.3f} → {big.iloc[-1]:.3f}",
        None,
        f"test 0-1 error at d={int(sub['d'].max())}, m={int(sub['m'].iloc[0])}, γ = {int(big.index[0])} → {int(big.index[-1])}",
    )


def _digits(runs: pd.DataFrame, generator: str) -> pd.DataFrame:
    if not len(runs) or "dataset" not in runs:
        raise MissingRuns("no digits runs")
    sub = runs[runs["experiment"] == "digits"]
    if not (sub["generator"] == generator).any():
        raise MissingRuns(f"no digits runs with generator '{generator}'")
    return sub


def digits_effect(generator: str):
    """Report: change in test accuracy and train-test accuracy gap at the largest γ, vs γ = 0."""

    def evaluate(runs: pd.DataFrame) -> Outcome:
        sub = _digits(runs, generator)
        g_max = sub.loc[sub["generator"] == generator, "gamma"].max()
        base = sub[sub["gamma"] == 0].groupby(["dataset", "m"])[["test_acc", "acc_gap"]].mean()
        aug = sub[(sub["generator"] == generator) & (sub["gamma"] == g_max)]
        fd = aug.groupby(["dataset", "m"])["fd_generator"].mean()
        fid = aug.groupby(["dataset", "m"])["generator_class_fidelity"].mean()
        aug = aug.groupby(["dataset", "m"])[["test_acc", "acc_gap"]].mean()
        delta = (aug - base).dropna()
        parts = [
            f"{ds} m={int(m)}: Δacc {100 * r.test_acc:+.1f} pt, Δgap {100 * r.acc_gap:+.1f} pt, FD {fd[(ds, m)]:.2f}, "
            f"class fidelity {fid[(ds, m)]:.2f}"
            for (ds, m), r in delta.iterrows()
        ]
        return Outcome(
            f"Δ test acc {100 * delta['test_acc'].mean():+.2f} pt, Δ acc gap {100 * delta['acc_gap'].mean():+.2f} pt",
            None,
            f"γ={int(g_max)} vs γ=0, mean over seeds (stand-in data, not CIFAR-10): " + "; ".join(parts),
        )

    return evaluate


def _stylegan_not_built(runs: pd.DataFrame) -> Outcome:
    raise MissingRuns("StyleGAN2-ADA is not built (NVIDIA's cifar10.pkl needs their pickled code); only cDCGAN runs exist")


def cifar_base_aug_small_effect(runs: pd.DataFrame) -> Outcome:
    """With `base` augmentation: the largest |Δ test accuracy| (points) of GAN data against m_G = 0, mean over seeds."""
    sub = runs[(runs["experiment"] == "cifar") & (runs["augmentation"] == "base")] if "augmentation" in runs else runs.iloc[:0]
    base = sub[sub["n_generated"] == 0]
    gan = sub[sub["n_generated"] > 0]
    if base.empty or gan.empty:
        raise MissingRuns("no CIFAR-10 runs with `base` augmentation, with and without generated data")
    ref = base["test_acc"].mean()
    delta = 100 * (gan.groupby(["generator", "n_generated"])["test_acc"].mean() - ref)
    worst = float(delta.abs().max())
    return Outcome(worst, worst <= 1.0, "; ".join(f"{g} m_G={n}: {d:+.2f} pt" for (g, n), d in delta.items()))


def claims(cfg: dict[str, Any]) -> list[Claim]:
    """The claims of the report job's settings."""
    return [
        Claim(
            "no_faster_rate",
            "GDA does not give a faster learning rate: at d = 1 the log-log slope of the gap in m is "
            "the same with and without augmentation",
            f"|slope_γ − slope_0| ≤ {SLOPE_TOL} for every γ",
            no_faster_rate,
            paper_value="protocol CPU re-run (not the authors'): slope ≈ −0.51 for every γ",
        ),
        Claim(
            "gap_ratio_d1",
            "At d = 1 augmentation leaves the gap essentially unchanged",
            f"gap(γ)/gap(0) ∈ [{RATIO_LOW}, {RATIO_HIGH}] for every m and γ",
            gap_ratio_d1,
            paper_value="protocol CPU re-run: curves within ±0.02",
        ),
        Claim(
            "high_d_reduction",
            "When d/m is large (m = 10, d ≥ 20), GDA lowers the gap by a constant factor",
            f"gap(γ={HIGH_D_GAMMA}) ≤ {HIGH_D_RATIO} × gap(γ=0) for every d ≥ {HIGH_D_MIN}",
            high_d_reduction,
            paper_value="protocol CPU re-run: d=20 2.07→0.99, d=50 5.05→1.37, d=100 10.0→2.10",
        ),
        Claim(
            "plateau_in_gamma",
            f"At d = {PLATEAU_D}, m = {PLATEAU_M} the gap decreases in γ, then plateaus",
            f"non-increasing within {MONOTONE_SLACK:.0%} and last two points within {PLATEAU_TOL:.0%}",
            plateau_in_gamma,
            paper_value="protocol CPU re-run: 5.16 … 1.54, 1.51",
        ),
        Claim(
            "gain_grows_with_d",
            "The relative gain of GDA grows with the dimension d (at fixed m)",
            "1 − gap(γ_max)/gap(0) strictly increasing in d",
            gain_grows_with_d,
        ),
        Claim(
            "largest_d_gap_reduced",
            "At the largest d of the d sweep, GDA lowers the gap",
            "gap(γ_max) / gap(0) < 1",
            largest_d_gap_reduced,
            scales=("smoke", "default", "paper"),
            paper_value="protocol smoke check, CPU re-run margin ≈ 30% at (d, m) = (10, 10)",
        ),
        Claim(
            "test_error_not_improved",
            "The gain concerns the gap, not the test error (bGMM)",
            "reported",
            zero_one_not_improved,
            scales=("smoke", "default", "paper"),
            paper_value="protocol CPU re-run: 0.166 / 0.184 / 0.167 at γ = 0 / 1 / 50 (d=50, m=10)",
        ),
        Claim(
            "digits_cgan",
            "Digits stand-in: a conditional GAN fitted on m real digits, used for augmentation",
            "reported",
            digits_effect("cgan"),
        ),
        Claim(
            "digits_cgauss",
            "Digits stand-in: class-conditional Gaussians fitted on m real digits, used for augmentation",
            "reported",
            digits_effect("cgauss"),
        ),
        Claim(
            "cifar_stylegan_gap",
            "CIFAR-10 without standard augmentation: StyleGAN2-ADA data at m_G ≥ 100k lower acc_gap",
            "acc_gap(m_G) < acc_gap(0)",
            _stylegan_not_built,
            scales=("paper",),
        ),
        Claim(
            "cifar_base_aug_small_effect",
            "CIFAR-10 with `base` augmentation: GAN data change test accuracy little",
            "|Δ test accuracy| ≤ 1 point (cDCGAN data; the paper's claim also covers StyleGAN2-ADA)",
            cifar_base_aug_small_effect,
            scales=("paper",),
        ),
    ]
