"""CS-IB tables and figures; every dataset is shown with its label, which names it as a stand-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paperdag.curves import curves_figure
from paperdag.figures import save_figure
from paperdag.papers.cs_ib.selection import mean_curve, method_means, selected_runs
from paperdag.stage import Job
from paperdag.tables import write_table


def _wide(runs: pd.DataFrame, column: str, cfg: dict[str, Any]) -> pd.DataFrame:
    """dataset × method table of 'mean ± sd' over seeds at the validation-selected β."""
    stats = method_means(runs, column)
    stats["cell"] = [f"{m:.4g} ± {s:.2g}" if np.isfinite(s) else f"{m:.4g}" for m, s in zip(stats["mean"], stats["std"])]
    wide = stats.pivot(index="dataset", columns="method", values="cell")
    wide = wide.reindex(
        index=[d for d in cfg["datasets"] if d in wide.index], columns=[m for m in cfg["method_list"] if m in wide.columns]
    )
    wide.insert(0, "dataset", [cfg["labels"][d] for d in wide.index])
    return wide.reset_index(drop=True)


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    cfg = job.cfg
    tables, figures = Path(paper_dir) / "tables", Path(paper_dir) / "figures"
    _gen_study(job, tables, figures)
    write_table(_wide(runs, "test_rmse", cfg), tables / "rmse")
    write_table(_wide(runs, "test_mae", cfg), tables / "mae")
    write_table(_wide(runs, "test_rmse_best_over_epochs_official", cfg), tables / "rmse_official_best")
    write_table(_wide(runs, "fgsm_auc", cfg), tables / "fgsm_auc")
    write_table(_paired_table(runs, cfg), tables / "paired_vs_best_baseline")
    sel = selected_runs(runs).drop_duplicates(["dataset", "method"])
    beta = sel.pivot(index="dataset", columns="method", values="beta")
    beta = beta.reindex(
        index=[d for d in cfg["datasets"] if d in beta.index], columns=[m for m in cfg["method_list"] if m in beta.columns]
    )
    beta.insert(0, "dataset", [cfg["labels"][d] for d in beta.index])
    write_table(beta.reset_index(drop=True), tables / "selected_beta")
    cols = [
        "dataset_label",
        "method",
        "beta",
        "seed",
        "test_rmse",
        "test_mae",
        "val_rmse",
        "train_rmse",
        "test_rmse_best_over_epochs_official",
        "best_step",
        "steps_trained",
        "stopped_early",
        "fgsm_auc",
        "ixt_norm_train",
        "iyt_bits_train",
        "constant_test_rmse",
        "linear_test_rmse",
    ]
    write_table(runs[cols].sort_values(["dataset_label", "method", "beta", "seed"]).reset_index(drop=True), tables / "runs")
    _information_plane(runs, figures / "information_plane", cfg)
    _fgsm_curves(runs, figures / "fgsm_curves", cfg)
    curves_figure(
        selected_runs(runs),
        figures / "training_curves",
        hue="method",
        col="dataset",
        run_id=["seed"],
        ylabel="validation RMSE (selected β)",
    )


def _paired_table(runs: pd.DataFrame, cfg: dict[str, Any]) -> pd.DataFrame:
    """Per dataset: CS-IB, the best tuned baseline (chosen on validation), the paired difference, the trivial predictors."""
    from paperdag.papers.cs_ib.claims import CSIB, _paired, _per_seed, _se, best_baseline

    rows = []
    for d in [d for d in cfg["datasets"] if d in set(runs["dataset"])]:
        best = best_baseline(runs, d, cfg["baseline_methods"])
        diff = _paired(runs, d, CSIB, best, "test_rmse")
        sub = runs[runs["dataset"] == d]
        rows.append(
            {
                "dataset": cfg["labels"][d],
                "CS-IB": f"{_per_seed(runs, d, CSIB, 'test_rmse').mean():.4g}",
                "best baseline": best,
                "its RMSE": f"{_per_seed(runs, d, best, 'test_rmse').mean():.4g}",
                "paired CS-IB vs best": f"{np.expm1(diff.mean()):+.1%} ± {_se(diff):.1%}",
                "constant": f"{sub['constant_test_rmse'].iloc[0]:.4g}",
                "linear": f"{sub['linear_test_rmse'].iloc[0]:.4g}",
            }
        )
    return pd.DataFrame(rows)


def _panels(n: int):
    import matplotlib.pyplot as plt

    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.6 * rows), squeeze=False, constrained_layout=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat)


def _information_plane(runs: pd.DataFrame, stem: Path, cfg: dict[str, Any]) -> None:
    """Normalised I_CS(X;T) against I(Y;T) (Gaussian proxy, bits) on training data: every method's β sweep
    (seed means) as a line, its β = 0 end (MSE, CS divergence alone) as a single point."""
    datasets = [d for d in cfg["datasets"] if d in set(runs["dataset"])]
    fig, axes = _panels(len(datasets))
    for ax, d in zip(axes, datasets):
        sub = runs[runs["dataset"] == d]
        for m in cfg["method_list"]:
            pts = sub[sub["method"] == m].groupby("beta")[["ixt_norm_train", "iyt_bits_train"]].mean().reset_index()
            if not len(pts):
                continue
            style = dict(color="black", lw=2) if m == "cs_ib" else {}
            ax.plot(pts["ixt_norm_train"], pts["iyt_bits_train"], "-o", ms=4, label=m, **style)
            if m == "cs_ib":
                for _, r in pts.iterrows():
                    ax.annotate(f"β={r['beta']:g}", (r["ixt_norm_train"], r["iyt_bits_train"]), fontsize=6)
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


def _gen_study(job: Job, tables: Path, figures: Path) -> None:
    """The generalisation study: correlations table, and the gap against both quantities per network."""
    import matplotlib.pyplot as plt

    from paperdag.io import read_json
    from paperdag.papers.cs_ib import spec
    from paperdag.papers.cs_ib.gen_study import QUANTITIES, correlations

    study = read_json(next(p for p in job.inputs if p.endswith(spec.GEN_STUDY)))
    nets = pd.DataFrame(study["networks"])
    rows = pd.DataFrame(correlations(study["networks"], int(job.cfg["gen_study"]["n_perm"])))
    write_table(rows, tables / "gen_study")
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for ax, (key, label), r in zip(axes, QUANTITIES.items(), rows.itertuples()):
        sc = ax.scatter(nets[key], nets["gap"], c=np.log2(nets["width"]), s=8 + 4 * nets["depth"], cmap="viridis", alpha=0.8)
        ax.set_xlabel(f"normalised {label}, training set")
        ax.set_title(f"Spearman ρ = {r.rho:+.2f} (p = {r.p_perm:.2g})", fontsize=9)
    axes[0].set_ylabel("generalisation gap (test − training MSE)")
    fig.colorbar(sc, ax=axes, label="log2 width (marker size: depth)")
    fig.suptitle(f"{len(nets)} MLPs on {study['dataset_label']}", fontsize=9)
    save_figure(fig, figures / "gen_study")
