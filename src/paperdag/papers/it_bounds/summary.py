"""Tables and figures of it_bounds, written from the runs the pipeline computed."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from paperdag.figures import save_figure
from paperdag.papers.it_bounds.frames import POINT, cases_frame, funnel_frame, gibbs_frame, layer_frame
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
    "w1_norm",
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


def gibbs_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (network, n, layer) of the Gibbs example, with the refined bound's right-hand side."""
    rows = []
    for r in gibbs_frame(runs).to_dict("records"):
        etas = np.asarray(r["etas"])
        for layer, (d, b) in enumerate(zip(r["D"], r["bound"])):
            eta = float(etas[:layer].prod())
            rows.append(
                {
                    "network": r["network"],
                    "params": r["params"],
                    "n": r["n"],
                    "gamma": r["gamma"],
                    "layer": layer,
                    "gen": r["gen"],
                    "train_loss": r["train_loss"],
                    "test_loss": r["test_loss"],
                    "D": d,
                    "D_without_label": r["D_without_label"][layer],
                    "D_Y": r["D_Y"],
                    "refined_rhs": eta * r["D"][0] + (1 - eta) * r["D_Y"],
                    "eta_product": eta,
                    "bound": b,
                    "bound_perw": r["bound_perw"][layer],
                    "bound_over_gen": b / abs(r["gen"]),
                }
            )
    return pd.DataFrame(rows)


def _gibbs_figure(table: pd.DataFrame, stem: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for (net, g), color in zip(table.groupby("network"), sns.color_palette()):
        out = g[g["layer"] == g["layer"].max()]
        axes[0].plot(out["n"], out["gen"], "-o", color=color, ms=3, label=f"{net}: exact gen")
        axes[0].plot(out["n"], out["bound"], "--^", color=color, ms=3, label=f"{net}: output KL bound")
        first = g[g["n"] == g["n"].min()]
        axes[1].plot(first["layer"], first["D"], "-o", color=color, label=f"{net}: D_l")
        axes[1].plot(first["layer"], first["refined_rhs"], ":", color=color, label=f"{net}: Πη·D_0 + (1−Πη)·D_Y")
    ns = np.sort(table["n"].unique())
    ref = table[table["n"] == ns[0]]["gen"].max()
    axes[0].plot(ns, ref * ns[0] / ns, "k:", lw=1, label="∝ 1/n")
    axes[0].set(xscale="log", yscale="log", xlabel="n", title="Gibbs algorithm, binary weights: error and bound")
    axes[1].set(yscale="log", xlabel="layer l", ylabel="nats", title=f"per-layer KL at n = {ns[0]} and the refined bound")
    for ax in axes:
        ax.legend(fontsize=6)
    save_figure(fig, stem)


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    """Write the tables (bounds, tightness, sdpi, gibbs, crosscheck) and the five figures."""
    tables, figures = Path(paper_dir) / "tables", Path(paper_dir) / "figures"
    layers = layer_frame(runs)
    write_table(layers[POINT + ["layer"] + BOUND_COLS], tables / "bounds")
    funnel = funnel_frame(layers)
    tight = layers[POINT + ["layer", "tight_kl_joint", "tight_kl_perw", "tight_w"]].merge(funnel, on=POINT)
    tight["is_funnel"] = tight["layer"] == tight["funnel_hidden"]
    tight["is_raw_funnel"] = tight["layer"] == tight["funnel"]
    write_table(tight.drop(columns=["funnel", "funnel_hidden", "funnel_norm"]), tables / "tightness")
    sdpi = pd.concat([cases_frame(runs, "sdpi", ch) for ch in ("dropout", "dropconnect", "noise", "refined")], ignore_index=True)
    sdpi["widths"] = sdpi["widths"].map(lambda w: "→".join(map(str, w)) if isinstance(w, list) else "")
    write_table(sdpi, tables / "sdpi")
    gibbs = gibbs_table(runs)
    write_table(gibbs, tables / "gibbs")
    _gibbs_figure(gibbs, figures / "gibbs_rate")
    if "kind" in runs and (runs["kind"] == "crosscheck").any():
        write_table(cases_frame(runs, "crosscheck"), tables / "crosscheck")
    _bounds_vs_n(layers, figures / "bounds_vs_n")
    _kl_per_layer(layers, figures / "kl_per_layer")
    _tightness_heatmap(layers, figures / "tightness_heatmap")
    _sdpi_figure(runs, figures / "sdpi_coefficients")
