"""Tables and figures of it_bounds, written from the runs the pipeline computed."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from paperdag.figures import save_figure
from paperdag.papers.it_bounds.frames import POINT, cases_frame, funnel_frame, layer_frame
from paperdag.stage import Job
from paperdag.tables import write_table

BOUND_COLS = [
    "width",
    "rank_min",
    "D_mean",
    "kl_joint",
    "kl_perw",
    "w1",
    "w1_lower",
    "w_bound",
    "gen_mean",
    "gen_se",
    "ramp_gen_mean",
]


def _bounds_vs_n(layers: pd.DataFrame, stem: Path) -> None:
    out = layers[layers["layer"] == layers["n_layers"]]
    inp = layers[layers["layer"] == 0]
    archs, dims = sorted(out["arch"].unique()), sorted(out["d"].unique())
    fig, axes = plt.subplots(
        len(archs), len(dims), figsize=(3.4 * len(dims), 2.8 * len(archs)), squeeze=False, sharex=True, layout="constrained"
    )
    for (i, arch), (j, d) in ((a, b) for a in enumerate(archs) for b in enumerate(dims)):
        ax = axes[i][j]
        o, x = out[(out["arch"] == arch) & (out["d"] == d)], inp[(inp["arch"] == arch) & (inp["d"] == d)]
        for y, label, style in (
            (o["kl_joint"], "KL bound, output (joint)", "-o"),
            (o["kl_perw"], "KL bound, output (per-W)", "--o"),
            (x["kl_joint"], "KL bound, input (l = 0)", ":s"),
            (o["w_bound"], "W1 bound, output (ramp)", "-^"),
            (o["gen_mean"].abs(), "|gen| (0-1)", "-k*"),
            (o["ramp_gen_mean"].abs(), "|gen| (ramp)", ":k*"),
        ):
            ax.plot(o["n"], y.to_numpy(), style, ms=3, label=label)
        ax.set(xscale="log", yscale="log", title=f"{arch}, d={d}", xlabel="n")
    axes[0][0].legend(fontsize=6)
    save_figure(fig, stem)


def _kl_per_layer(layers: pd.DataFrame, stem: Path) -> None:
    g = sns.relplot(
        data=layers,
        x="layer",
        y="D_mean",
        hue="n",
        col="arch",
        row="d",
        kind="line",
        marker="o",
        palette="viridis",
        hue_norm=_lognorm(layers["n"]),
        height=2.2,
        aspect=1.2,
        facet_kws={"sharey": False},
    )
    g.set(yscale="log", ylabel="E D_l (nats)")
    save_figure(g.figure, stem)


def _lognorm(values: pd.Series):
    from matplotlib.colors import LogNorm

    return LogNorm(values.min(), values.max())


def _tightness_heatmap(layers: pd.DataFrame, stem: Path) -> None:
    archs = sorted(layers["arch"].unique())
    rows = layers.groupby("arch")[["d", "layer"]].apply(lambda g: len(g.drop_duplicates())).max()
    fig, axes = plt.subplots(1, len(archs), figsize=(5.5 * len(archs), 0.3 * rows + 2.0), squeeze=False, layout="constrained")
    for ax, arch in zip(axes[0], archs):
        sub = layers[layers["arch"] == arch]
        grid = sub.pivot_table(index=["d", "layer"], columns="n", values="tight_kl_joint")
        sns.heatmap(
            np.log10(grid),
            ax=ax,
            annot=grid.round(1),
            fmt="g",
            cmap="magma_r",
            cbar_kws={"label": "log10 bound/|gen|"},
            annot_kws={"size": 6},
        )
        ax.set_title(f"{arch}: joint KL bound / |gen|")
    save_figure(fig, stem)


def _sdpi_figure(runs: pd.DataFrame, stem: Path) -> None:
    from paperdag.papers.it_bounds.sdpi import dropconnect_eta, dropout_eta, noise_eta

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
    dropout, dconn, noise = (cases_frame(runs, "sdpi", ch) for ch in ("dropout", "dropconnect", "noise"))
    widths = np.arange(1, 11)
    for p, color in zip(sorted(dropout["p"].unique()), sns.color_palette()):
        axes[0].plot(widths, [dropout_eta(p, w) for w in widths], color=color, label=f"η, p={p:g}")
        for support, marker in (("generic", "o"), ("binary", "x")):
            m = dropout[(dropout["p"] == p) & (dropout["support"] == support)]
            axes[0].plot(
                m["width"],
                m["max_ratio"],
                marker,
                color=color,
                ls="none",
                label=f"measured ({support})" if p == dropout["p"].min() else None,
            )
        axes[1].plot(widths, [dropconnect_eta(p, w, 1) for w in widths], color=color, label=f"η, p={p:g}")
        m = dconn[dconn["p"] == p]
        axes[1].plot(m["width"], m["max_ratio"], "o", color=color, ls="none")
    outs = np.arange(1, 11)
    for beta, color in zip(sorted(noise["beta"].unique()), sns.color_palette()):
        axes[2].plot(outs, [noise_eta(beta, w) for w in outs], color=color, label=f"bound, β={beta:g}")
        m = noise[noise["beta"] == beta]
        axes[2].plot(m["width"], m["max_ratio"], "o", color=color, ls="none")
    for ax, title, xlabel in zip(
        axes, ("Dropout", "DropConnect", "Gaussian noise"), ("inputs d_in", "weights d_in·d_out", "width d_out")
    ):
        ax.set(title=title, xlabel=xlabel, ylabel="SDPI coefficient / max KL ratio", ylim=(0, 1.05))
        ax.legend(fontsize=6)
    save_figure(fig, stem)


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    """Write the tables (bounds, tightness, sdpi, crosscheck) and the four figures."""
    tables, figures = Path(paper_dir) / "tables", Path(paper_dir) / "figures"
    layers = layer_frame(runs)
    write_table(layers[POINT + ["layer"] + BOUND_COLS], tables / "bounds")
    funnel = funnel_frame(layers)
    tight = layers[POINT + ["layer", "tight_kl_joint", "tight_kl_perw", "tight_w"]].merge(funnel, on=POINT)
    tight["is_funnel"] = tight["layer"] == tight["funnel"]
    write_table(tight.drop(columns=["funnel", "funnel_hidden"]), tables / "tightness")
    sdpi = pd.concat([cases_frame(runs, "sdpi", ch) for ch in ("dropout", "dropconnect", "noise", "refined")], ignore_index=True)
    sdpi["widths"] = sdpi["widths"].map(lambda w: "→".join(map(str, w)) if isinstance(w, list) else "")
    write_table(sdpi, tables / "sdpi")
    if "kind" in runs and (runs["kind"] == "crosscheck").any():
        write_table(cases_frame(runs, "crosscheck"), tables / "crosscheck")
    _bounds_vs_n(layers, figures / "bounds_vs_n")
    _kl_per_layer(layers, figures / "kl_per_layer")
    _tightness_heatmap(layers, figures / "tightness_heatmap")
    _sdpi_figure(runs, figures / "sdpi_coefficients")
