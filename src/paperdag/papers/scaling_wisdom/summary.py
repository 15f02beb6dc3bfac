"""Tables and figures of the scaling-wisdom report (every number from the runs' metrics.json)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from paperdag.figures import save_figure
from paperdag.papers.scaling_wisdom.analysis import crossover_curve, learnability_gate, optimum_from_runs, seed_mean_se
from paperdag.papers.scaling_wisdom.claims import batch_curves, gap_table
from paperdag.stage import Job
from paperdag.tables import write_table

SOURCE_NOTE = {
    "hier": "hierarchical order-2 Markov (learnable)",
    "flat": "flat order-2 Markov (stress case)",
    "text": "CPython docs text (stand-in for C4)",
    "c4": "C4 (en), T5 SentencePiece 32K",
}


def _agg(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean ± SE over seeds of the test/val/train losses, with tokens per parameter."""
    out = []
    for key, g in rows.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ok = g[~g["diverged"].astype(bool)]
        m, se = seed_mean_se(ok["test_loss"]) if len(ok) else (float("nan"), float("nan"))
        out.append(
            {
                **dict(zip(keys, key)),
                "test_loss": m,
                "test_se": se,
                "val_loss": ok["val_loss"].mean(),
                "train_loss": ok["train_loss"].mean(),
                "excess_over_H": m - g["entropy_rate"].iloc[0],
                "n_diverged": int(g["diverged"].astype(bool).sum()),
                "n_seeds": len(g),
                "tokens_per_param": g["tokens_per_param"].iloc[0],
                "n_params": int(g["n_params"].iloc[0]),
            }
        )
    return pd.DataFrame(out)


def _empty(stem: Path, note: str) -> None:
    write_table(pd.DataFrame({"note": [note]}), stem)


def _placeholder_figure(stem: Path, note: str) -> None:
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.text(0.5, 0.5, note, ha="center", va="center")
    ax.set_axis_off()
    save_figure(fig, stem)


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    cfg = job.cfg
    t, f = paper_dir / "tables", paper_dir / "figures"
    margin = cfg["claims"].get("gate_margin", 0.1)

    # sources: exact entropies and the learnability gate
    rows = []
    for s, g in runs.groupby("source"):
        gate = learnability_gate(g["test_loss"].tolist(), float(g["order1_entropy"].iloc[0]), margin)
        known = np.isfinite(gate.order1_entropy)  # real text (C4): no known entropy, gate not evaluated
        rows.append(
            {
                "source": s,
                "description": SOURCE_NOTE.get(s, s),
                "entropy_rate": g["entropy_rate"].iloc[0],
                "order1_entropy": gate.order1_entropy,
                "best_test_loss": gate.best_loss,
                "learnable": gate.learnable if known else "not evaluated",
            }
        )
    write_table(pd.DataFrame(rows), t / "sources")

    # (b) LR sweeps and their interpolated optima
    sw = runs[runs["experiment"] == "sweep"]
    write_table(_agg(sw, ["source", "width", "lr"]), t / "lr_sweep")
    opt = []
    for (s, w), g in sw.groupby(["source", "width"]):
        o = optimum_from_runs(g)
        opt.append(
            {
                "source": s,
                "width": int(w),
                **o.__dict__,
                "stability_ratio": o.stability_ratio,
                "lr_min": g["lr"].min(),
                "lr_max": g["lr"].max(),
                "n_lrs": g["lr"].nunique(),
            }
        )
    write_table(pd.DataFrame(opt), t / "lr_optimum")
    fig, axes = plt.subplots(
        1, max(1, sw["source"].nunique()), figsize=(4.5 * max(1, sw["source"].nunique()), 3.5), squeeze=False
    )
    for ax, (s, g) in zip(axes[0], sw.groupby("source")):
        a = _agg(g, ["width", "lr"])
        for w, gw in a.groupby("width"):
            line = ax.errorbar(gw["lr"], gw["test_loss"], yerr=gw["test_se"], marker="o", label=f"D={w}")
            o = optimum_from_runs(g[g["width"] == w])
            ax.axvline(o.lr, color=line[0].get_color(), ls=":", lw=1)  # optimum
            if o.limit_found:  # largest stable LR (the next LR up was unstable)
                ax.plot(
                    [o.largest_stable],
                    [gw.loc[np.isclose(gw["lr"], o.largest_stable), "test_loss"].min()],
                    marker="v",
                    ms=9,
                    color=line[0].get_color(),
                    mfc="none",
                )
        if np.isfinite(g["order1_entropy"].iloc[0]):
            ax.axhline(g["order1_entropy"].iloc[0], color="grey", ls="--", lw=1, label="order-1 entropy")
        ax.set(
            xscale="log",
            xlabel="peak learning rate (dotted: optimum; ▽: largest stable LR)",
            ylabel="test loss (nats/token)",
            title=SOURCE_NOTE.get(s, s),
        )
        ax.legend(fontsize=6)
    save_figure(fig, f / "lr_sweep")

    # (a) crossover
    cr = runs[runs["experiment"] == "crossover"]
    if len(cr):
        a = _agg(cr, ["width", "rule"])
        cv = crossover_curve(cr)
        d = pd.DataFrame({"width": cv.widths, "delta": cv.delta, "delta_se": cv.se})
        wide = a.pivot(index="width", columns="rule", values="test_loss").add_prefix("test_loss_").reset_index()
        meta = a.groupby("width")[["n_params", "tokens_per_param"]].first().reset_index()
        write_table(meta.merge(wide).merge(d), t / "crossover")
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
        for rule, g in a.groupby("rule"):
            ax1.errorbar(
                g["n_params"],
                g["test_loss"],
                yerr=g["test_se"],
                marker="o",
                label={"const": "constant η*(D_ref)", "scaled": "η*(D_ref)·D_ref/D"}.get(rule, rule),
            )
        ax1.set(xscale="log", xlabel="parameters", ylabel="test loss (nats/token)", title="loss vs model size")
        ax1.legend()
        ax2.errorbar(d["width"], d["delta"], yerr=d["delta_se"], marker="o")
        ax2.axhline(0, color="grey", lw=1)
        d_ref = cfg["crossover"]["ref"]
        ax2.axvline(d_ref, color="grey", ls=":", lw=1)
        ax2.set(
            xscale="log",
            xlabel="width D (dotted: D_ref, where η* was tuned)",
            ylabel="Δ(D) = L_const − L_scaled",
            title="Δ > 0: LR ∝ 1/D better",
        )
        save_figure(fig, f / "crossover")
    else:
        _empty(t / "crossover", "no crossover runs")
        _placeholder_figure(f / "crossover", "no crossover runs")

    # (c) batch size at fixed tokens: fixed LR η* and LR tuned per batch size (on validation)
    bt = runs[runs["experiment"] == "batch"]
    try:
        a = batch_curves(runs, cfg["batch"]["source"]) if len(bt) else pd.DataFrame()
    except LookupError:
        a = pd.DataFrame()
    write_table(a if len(a) else pd.DataFrame({"note": ["no batch runs"]}), t / "batch")
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    if len(a):
        ax.errorbar(a["batch"], a["fixed_test"], yerr=a["fixed_se"], marker="o", label="fixed LR η* (tuned at the sweep batch)")
        ax.errorbar(a["batch"], a["tuned_test"], yerr=a["tuned_se"], marker="s", label="LR tuned per batch (validation)")
        ax.legend(fontsize=7)
    ax.set(xscale="log", xlabel="batch size (sequences) at fixed tokens", ylabel="test loss (nats/token)")
    save_figure(fig, f / "batch")

    # (d) coupled L2 and decoupled weight decay in both regimes
    rg = runs[runs["experiment"] == "reg"]
    a = _agg(rg, ["source", "regime", "method", "l2", "wd"]) if len(rg) else pd.DataFrame()
    if len(a):
        a["gap_rel"] = (a["val_loss"] - a["train_loss"]) / a["val_loss"]
    write_table(a if len(a) else pd.DataFrame({"note": ["no regularisation runs"]}), t / "regularization")
    panels = sorted(rg.groupby(["source", "regime"]).groups) if len(rg) else []
    fig, axes = plt.subplots(1, max(1, len(panels)), figsize=(4 * max(1, len(panels)), 3.5), squeeze=False)
    for ax, (s, r) in zip(axes[0], panels):
        g = a[(a["source"] == s) & (a["regime"] == r)]
        for kind, col in (("l2", "coupled L2 λ"), ("wd", "decoupled wd")):
            k = g[(g[kind] > 0) | ((g["l2"] == 0) & (g["wd"] == 0))].sort_values(kind)
            x = np.where(k[kind] > 0, k[kind], k[kind][k[kind] > 0].min() / 10 if (k[kind] > 0).any() else 1e-5)
            ax.errorbar(x, k["test_loss"], yerr=k["test_se"], marker="o", label=f"{col} (leftmost = 0)")
        ax.set(xscale="log", xlabel="coefficient", ylabel="test loss", title=f"{s}, {r.replace('_', '-')}")
        ax.legend(fontsize=6)
    save_figure(fig, f / "regularization")

    # (e) the train-validation gap per configuration, and throughput
    write_table(gap_table(runs), t / "gap")
    thr = runs.groupby(["experiment", "source", "width", "batch"], as_index=False).agg(
        ensemble_size=("ensemble_size", "first"),
        ensemble_wall_s=("ensemble_wall_s", "max"),
        tokens_per_s=("ensemble_tokens_per_s", "mean"),
        mfu=("mfu", "mean"),
        peak_gflops=("matmul_peak_gflops", "mean"),
        tokens_per_param=("tokens_per_param", "first"),
    )
    write_table(thr, t / "throughput")
