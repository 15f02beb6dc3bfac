"""CS-IB tables and figures; every dataset is shown with its label, which names it as a stand-in."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paperdag.figures import save_figure
from paperdag.papers.cs_ib.selection import mean_curve, method_means, selected_runs
from paperdag.stage import Job
from paperdag.tables import write_table


def _wide(runs: pd.DataFrame, column: str, cfg: dict[str, Any]) -> pd.DataFrame:
    """dataset × method table of 'mean ± sd' over seeds at the validation-selected β."""
    stats = method_means(runs, column)
    stats["cell"] = [f"{m:.4g} ± {s:.2g}" if np.isfinite(s) else f"{m:.4g}" for m, s in zip(stats["mean"], stats["std"])]
    wide = stats.pivot(index="dataset", columns="method", values="cell")
    wide = wide.reindex(index=[d for d in cfg["datasets"] if d in wide.index],
                        columns=[m for m in cfg["method_list"] if m in wide.columns])
    wide.insert(0, "dataset", [cfg["labels"][d] for d in wide.index])
    return wide.reset_index(drop=True)


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    cfg = job.cfg
    tables, figures = Path(paper_dir) / "tables", Path(paper_dir) / "figures"
    write_table(_wide(runs, "test_rmse", cfg), tables / "rmse")
    write_table(_wide(runs, "test_mae", cfg), tables / "mae")
    write_table(_wide(runs, "test_rmse_best_over_epochs_official", cfg), tables / "rmse_official_best")
    write_table(_wide(runs, "fgsm_auc", cfg), tables / "fgsm_auc")
    sel = selected_runs(runs).drop_duplicates(["dataset", "method"])
    beta = sel.pivot(index="dataset", columns="method", values="beta")
    beta = beta.reindex(index=[d for d in cfg["datasets"] if d in beta.index],
                        columns=[m for m in cfg["method_list"] if m in beta.columns])
    beta.insert(0, "dataset", [cfg["labels"][d] for d in beta.index])
    write_table(beta.reset_index(drop=True), tables / "selected_beta")
    cols = ["dataset_label", "method", "beta", "seed", "test_rmse", "test_mae", "val_rmse", "train_rmse",
            "test_rmse_best_over_epochs_official", "best_epoch", "fgsm_auc", "ixt_norm_train", "iyt_bits_train"]
    write_table(runs[cols].sort_values(["dataset_label", "method", "beta", "seed"]).reset_index(drop=True), tables / "runs")
    _information_plane(runs, figures / "information_plane", cfg)
    _fgsm_curves(runs, figures / "fgsm_curves", cfg)


def _panels(n: int):
    import matplotlib.pyplot as plt

    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, constrained_layout=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def _information_plane(runs: pd.DataFrame, stem: Path, cfg: dict[str, Any]) -> None:
    """Normalised I_CS(X;T) against I(Y;T) (Gaussian proxy, bits) on training data; CS-IB over β, baselines as points."""
    datasets = [d for d in cfg["datasets"] if d in set(runs["dataset"])]
    fig, axes = _panels(len(datasets))
    for ax, d in zip(axes, datasets):
        sub = runs[runs["dataset"] == d]
        cs = sub[sub["method"] == "cs_ib"].groupby("beta")[["ixt_norm_train", "iyt_bits_train"]].mean().reset_index()
        ax.plot(cs["ixt_norm_train"], cs["iyt_bits_train"], "-o", color="black", label="CS-IB (β grid)")
        for _, r in cs.iterrows():
            ax.annotate(f"β={r['beta']:g}", (r["ixt_norm_train"], r["iyt_bits_train"]), fontsize=6)
        other = sub[sub["method"] != "cs_ib"].groupby("method")[["ixt_norm_train", "iyt_bits_train"]].mean()
        for m, r in other.iterrows():
            ax.scatter(r["ixt_norm_train"], r["iyt_bits_train"], label=m, s=18)
        ax.set_title(cfg["labels"][d], fontsize=8)
        ax.set_xlabel("normalised I_CS(X;T)")
        ax.set_ylabel("I(Y;T) [bits, Gaussian proxy]")
    axes[0].legend(fontsize=6)
    save_figure(fig, stem)


def _fgsm_curves(runs: pd.DataFrame, stem: Path, cfg: dict[str, Any]) -> None:
    """Seed-mean test RMSE under FGSM against ε, each method at its validation-selected β."""
    sel = selected_runs(runs)
    datasets = [d for d in cfg["datasets"] if d in set(sel["dataset"])]
    fig, axes = _panels(len(datasets))
    for ax, d in zip(axes, datasets):
        for m in cfg["method_list"]:
            g = sel[(sel["dataset"] == d) & (sel["method"] == m)]
            if len(g):
                ax.plot(g["fgsm_eps"].iloc[0], mean_curve(g, "fgsm_rmse"), "-o", ms=3, label=m)
        ax.set_title(cfg["labels"][d], fontsize=8)
        ax.set_xlabel("FGSM ε (standardised inputs)")
        ax.set_ylabel("test RMSE")
    axes[0].legend(fontsize=6)
    save_figure(fig, stem)
