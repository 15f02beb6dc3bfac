"""Tables and figures of the Monge-gap comparison."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from paperdag.curves import curves_figure
from paperdag.figures import plt, save_figure, sns
from paperdag.stage import Job
from paperdag.tables import write_table

SETTING = ["benchmark", "dim"]


def median_table(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Median over seeds of `metric`, one row per setting, one column per method."""
    table = runs.pivot_table(index=SETTING, columns="method", values=metric, aggfunc="median")
    return table.reset_index().rename_axis(columns=None)


def summary_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per setting and method: medians of every metric, and the ν-vs-ν floor's mean and spread."""
    grouped = runs.groupby([*SETTING, "method"])
    out = grouped[["l2_uvp", "cosine", "sinkhorn", "exact_mg_rel"]].median()
    out["l2_uvp_sd"] = grouped["l2_uvp"].std(ddof=1)
    out["sinkhorn_floor_mean"] = grouped["sinkhorn_floor"].mean()
    out["sinkhorn_floor_std"] = grouped["sinkhorn_floor"].std(ddof=0)
    out["seeds"] = grouped["seed"].count()
    return out.reset_index()


def fit_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The fit to ν per setting and method (medians over seeds), each distance beside its
    ν-vs-ν floor at the same sample size: Bures W2², variance ratio, Sinkhorn divergence."""
    grouped = runs.groupby([*SETTING, "method"])
    out = grouped[["bures", "bures_floor", "var_ratio", "sinkhorn", "sinkhorn_floor"]].median()
    return out.reset_index()


def _curves(runs: pd.DataFrame, stem: Path) -> None:
    trained = runs[runs["curve"].notna()] if "curve" in runs else runs.iloc[0:0]
    curves_figure(trained, stem, hue="method", col="benchmark", run_id=["dim", "seed"], ylabel="validation L2-UVP (%)")


def _uvp_figure(runs: pd.DataFrame, stem: Path) -> None:
    runs = runs[runs["l2_uvp"] > 0]  # the true map (oracle) scores 0: off a log axis
    grid = sns.relplot(data=runs, x="dim", y="l2_uvp", hue="method", col="benchmark", kind="line",
                       estimator="median", errorbar=("pi", 100), marker="o", height=3.2, aspect=1.1)
    grid.set(yscale="log", xscale="log", xlabel="dimension d", ylabel="L2-UVP (%)")
    dims = sorted(runs["dim"].unique())
    for ax in grid.axes.flat:  # label the dimensions that ran, no log-scale minor labels
        ax.set_xticks(dims, [str(d) for d in dims])
        ax.xaxis.set_minor_locator(plt.NullLocator())
    save_figure(grid.figure, stem)


def _maps_figure(maps_file: Path, stem: Path) -> None:
    data = np.load(maps_file)
    costs = [str(c) for c in data["costs"]]
    fig, axes = plt.subplots(1, len(costs), figsize=(4 * len(costs), 4), sharex=True, sharey=True)
    names = {"sqeuclidean": "ℓ2²", "euclidean": "ℓ2"}
    for ax, k in zip(np.atleast_1d(axes), range(len(costs))):
        x, mapped, true = data["x"], data["mapped"][k], data["true"]
        # the true map is the ℓ2² OT map; for the ℓ2 cost its image is only the target ν
        label = "ν = T*(μ), ℓ2² OT map" if costs[k] == "sqeuclidean" else "ν (ℓ2 OT map not known in closed form)"
        ax.scatter(true[:, 0], true[:, 1], s=4, c="lightgray", label=label)
        ax.scatter(x[:, 0], x[:, 1], s=4, c="tab:blue", label="μ")
        ax.scatter(mapped[:, 0], mapped[:, 1], s=4, c="tab:red", label="T(μ)")
        for i in range(0, len(x), 8):
            ax.plot([x[i, 0], mapped[i, 0]], [x[i, 1], mapped[i, 1]], lw=0.4, c="k", alpha=0.4)
        gap = f"; exact MG = {float(data['exact_mg'][k]):.3g}" if "exact_mg" in data else ""
        ax.set_title(f"MLP + Monge gap, cost {names.get(costs[k], costs[k])}{gap}", fontsize=9)
        ax.legend(loc="best", fontsize=6)
    save_figure(fig, stem)


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    """The L2-UVP and summary tables, the L2-UVP-vs-dimension figure and the 2-D maps figure."""
    maps_file = Path(next(p for p in job.inputs if p.endswith("maps.npz")))
    write_table(median_table(runs, "l2_uvp"), paper_dir / "tables" / "l2_uvp")
    write_table(summary_table(runs), paper_dir / "tables" / "summary")
    write_table(fit_table(runs), paper_dir / "tables" / "fit")
    _curves(runs, paper_dir / "figures" / "curves")
    _uvp_figure(runs, paper_dir / "figures" / "l2_uvp_vs_dim")
    _maps_figure(maps_file, paper_dir / "figures" / "maps_2d")
