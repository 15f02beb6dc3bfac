"""Tables and figures of the GDA report: Figure 1 (three bGMM panels + theory), the digits stand-in."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.ticker import NullFormatter

from paperdag.claims import MissingRuns
from paperdag.figures import save_figure
from paperdag.papers.gda.bgmm import theory_bound
from paperdag.papers.gda.claims import PLATEAU_D, PLATEAU_M, slopes_d1
from paperdag.stage import Job
from paperdag.tables import write_table

Z95 = 1.96  # normal 95% band: mean ± 1.96 standard errors over repeats


def _bgmm(runs: pd.DataFrame) -> pd.DataFrame:
    sub = runs[runs["experiment"] == "bgmm"] if len(runs) else runs
    return sub.sort_values(["panel", "d", "m", "gamma"]).reset_index(drop=True)


def _long(sub: pd.DataFrame) -> pd.DataFrame:
    """One row per repeat (for seaborn's error bands)."""
    return sub[["d", "m", "gamma", "gaps"]].explode("gaps").astype({"gaps": float}).rename(columns={"gaps": "gap"})


def gap_table(sim: pd.DataFrame) -> pd.DataFrame:
    out = sim[
        ["panel", "d", "m", "gamma", "repeats", "gap_mean", "gap_se", "train_nll_mean", "test_nll_mean", "test_err_mean"]
    ].copy()
    out["ci95_low"], out["ci95_high"] = out["gap_mean"] - Z95 * out["gap_se"], out["gap_mean"] + Z95 * out["gap_se"]
    return out


def slope_table(runs: pd.DataFrame) -> pd.DataFrame:
    try:
        slopes = slopes_d1(runs)
    except MissingRuns:
        return pd.DataFrame(columns=["gamma", "slope", "slope_minus_gamma0"])
    return pd.DataFrame({"gamma": slopes.index, "slope": slopes.values, "slope_minus_gamma0": slopes.values - slopes[0]})


def theory_table(sim: pd.DataFrame) -> pd.DataFrame:
    """The bound of protocol §2.1 on every γ-sweep cell, beside the simulated gap (both also relative to γ = 0)."""
    sub = sim[sim["panel"] == "gamma_sweep"][["d", "m", "gamma", "gap_mean"]].copy()
    sub["bound"] = [theory_bound(int(d), int(m), float(g)) for d, m, g in zip(sub["d"], sub["m"], sub["gamma"])]
    for col in ("gap_mean", "bound"):
        base = sub[sub["gamma"] == 0].set_index(["d", "m"])[col]
        sub[f"{col}_rel"] = [v / base.get((d, m), float("nan")) for d, m, v in zip(sub["d"], sub["m"], sub[col])]
    return sub.reset_index(drop=True)


def _empty(ax: plt.Axes, title: str) -> None:
    ax.set_title(title)
    ax.text(0.5, 0.5, "not run at this scale", ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([]), ax.set_yticks([])


def figure1(sim: pd.DataFrame, slopes: pd.DataFrame, theory: pd.DataFrame, paper_dir: Path) -> None:
    """(a) gap vs m at d = 1; (b) gap vs d at fixed m; (c) gap vs γ at each γ-sweep cell, with the bound."""
    sweeps = [(int(d), int(m)) for d, m in sim[sim["panel"] == "gamma_sweep"][["d", "m"]].drop_duplicates().values]
    fig, axes = plt.subplots(1, 2 + max(1, len(sweeps)), figsize=(4.2 * (2 + max(1, len(sweeps))), 3.6))
    band = ("se", Z95)
    a = sim[(sim["panel"] == "m_sweep") & (sim["d"] == 1)]
    if len(a):
        data = _long(a)
        label = {g: f"γ={g} (slope {s:.2f})" for g, s in zip(slopes["gamma"], slopes["slope"])}
        data["γ"] = data["gamma"].map(lambda g: label.get(g, f"γ={g}"))
        sns.lineplot(data=data, x="m", y="gap", hue="γ", errorbar=band, marker="o", ax=axes[0])
        axes[0].set(xscale="log", yscale="log", title="(a) d = 1", ylabel="NLL generalisation gap")
        ms = sorted(int(v) for v in a["m"].unique())
        axes[0].xaxis.set_minor_formatter(NullFormatter())
        axes[0].set_xticks(ms, [str(v) for v in ms])
        axes[0].legend(fontsize=6)
    else:
        _empty(axes[0], "(a) d = 1")
    b = sim[sim["panel"] == "d_sweep"]
    if len(b):
        data = _long(b)
        data["γ"] = data["gamma"].map(lambda g: f"γ={g}")
        sns.lineplot(data=data, x="d", y="gap", hue="γ", errorbar=band, marker="o", ax=axes[1])
        axes[1].set(title=f"(b) m = {', '.join(str(int(v)) for v in sorted(b['m'].unique()))}", ylabel="NLL generalisation gap")
        axes[1].legend(fontsize=6)
    else:
        _empty(axes[1], "(b) d sweep")
    if not sweeps:
        _empty(axes[2], "(c) γ sweep")
    for ax, (d, m) in zip(axes[2:], sweeps):
        cell = sim[(sim["panel"] == "gamma_sweep") & (sim["d"] == d) & (sim["m"] == m)]
        sns.lineplot(data=_long(cell), x="gamma", y="gap", errorbar=band, marker="o", ax=ax, label="simulated gap")
        th = theory[(theory["d"] == d) & (theory["m"] == m)]
        twin = ax.twinx()
        twin.plot(th["gamma"], th["bound"], color="grey", ls="--", marker="x", label="bound (§2.1)")
        twin.set_ylabel("theory bound", color="grey")
        twin.grid(False)
        ax.set(
            xscale="symlog",
            title=f"(c) d = {d}, m = {m}" + (" (paper's bound panel)" if (d, m) == (PLATEAU_D, PLATEAU_M) else ""),
            xlabel="γ",
            ylabel="NLL generalisation gap",
        )
        ax.legend(handles=ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0], fontsize=6)
    fig.suptitle("bGMM simulation (mean over repeats, 95% bands)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, paper_dir / "figures" / "figure1")


def digits_table(runs: pd.DataFrame) -> pd.DataFrame:
    sub = runs[runs["experiment"] == "digits"]
    table = (
        sub.groupby(["dataset", "generator", "m", "gamma"])
        .agg(
            seeds=("seed", "nunique"),
            test_acc=("test_acc", "mean"),
            test_acc_sd=("test_acc", "std"),
            train_acc=("train_acc", "mean"),
            acc_gap=("acc_gap", "mean"),
            loss_gap=("loss_gap", "mean"),
            fd_generator=("fd_generator", "mean"),
            fd_real_pool=("fd_real_pool", "mean"),
            class_fidelity=("generator_class_fidelity", "mean"),
            epochs=("epochs", "first"),
            classifier_steps=("classifier_steps", "first"),
        )
        .reset_index()
    )
    return table.sort_values(["dataset", "m", "gamma", "generator"]).reset_index(drop=True)


def digits_figure(runs: pd.DataFrame, paper_dir: Path) -> None:
    sub = runs[runs["experiment"] == "digits"].copy()
    names = {"real": "real (held-out: positive control)", "copy": "copy (memorised: negative control)"}
    sub["setting"] = [("no GDA" if g == 0 else f"{names.get(gen, gen)} γ={g}") for gen, g in zip(sub["generator"], sub["gamma"])]
    datasets = sorted(sub["dataset"].unique())
    fig, axes = plt.subplots(len(datasets), 2, figsize=(9, 3.4 * len(datasets)), squeeze=False)
    for row, ds in zip(axes, datasets):
        data = sub[sub["dataset"] == ds]
        for ax, metric, name in zip(row, ("test_acc", "acc_gap"), ("test accuracy", "|train − test| accuracy")):
            sns.lineplot(data=data, x="m", y=metric, hue="setting", errorbar=("se", Z95), marker="o", ax=ax)
            ax.set(xscale="log", title=f"{ds} (stand-in for CIFAR-10)", ylabel=name)
            ax.legend(fontsize=6)
    fig.tight_layout()
    save_figure(fig, paper_dir / "figures" / "digits")


def digits_curves(runs: pd.DataFrame, paper_dir: Path) -> None:
    """Validation error against step, one line per classifier (what the convergence gates read)."""
    from paperdag.curves import curves_figure

    sub = runs[runs["experiment"] == "digits"].copy()
    sub["run"] = sub["dataset"] + " m=" + sub["m"].astype(str) + " γ=" + sub["gamma"].astype(str)
    sub["panel"] = sub["dataset"] + " m=" + sub["m"].astype(str)
    curves_figure(
        sub,
        paper_dir / "figures" / "digits_curves",
        hue="generator",
        col="panel",
        run_id=["run", "seed"],
        ylabel="validation error",
        log_y=False,
    )


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    cfg = job.cfg
    paper_dir = Path(paper_dir)
    sim = _bgmm(runs)
    slopes, theory = slope_table(runs), theory_table(sim)
    write_table(gap_table(sim), paper_dir / "tables" / "bgmm_gaps")
    write_table(slopes, paper_dir / "tables" / "bgmm_slopes")
    write_table(theory, paper_dir / "tables" / "bgmm_theory")
    figure1(sim, slopes, theory, paper_dir)
    if cfg["datasets"]:
        write_table(digits_table(runs), paper_dir / "tables" / "digits_summary")
        digits_figure(runs, paper_dir)
        digits_curves(runs, paper_dir)
