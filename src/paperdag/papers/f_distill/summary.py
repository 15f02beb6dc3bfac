"""Tables and figures of f-distill, from the runs (metrics.json) and the saved samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from paperdag.figures import save_figure
from paperdag.papers.f_distill.divergences import NAMES
from paperdag.stage import Job
from paperdag.tables import write_table

METRICS = ["fd", "tv", "coverage", "precision", "recall", "sinkhorn", "auc_tv", "fd_digits", "fd_digits_tail", "kid", "class_tv"]


def _present(runs: pd.DataFrame) -> list[str]:
    return [m for m in METRICS if m in runs and runs[m].notna().any()]


# The references measured beside the students, as pseudo-divergences of the final table: each run carries its
# seed's values as `<prefix>_<metric>` (the same metrics, the same n as the students).
REFERENCES = {"teacher": "teacher", "direct": "direct_fit", "floor": "data_vs_data"}


def reference_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """One pseudo-run per (task, init, seed) and reference of `REFERENCES` present: the teacher's multi-step
    samples, the direct fit of the students' generator (toy) and the data-vs-data floor, named as divergences."""
    out = []
    own = runs[runs["task"] != "toy_ablation"]  # the ablation's runs repeat the main toy job's floors
    for prefix, label in REFERENCES.items():
        cols = {f"{prefix}_{m}": m for m in METRICS if f"{prefix}_{m}" in runs}
        if not cols:
            continue
        ref = own.groupby(["task", "init", "seed"])[list(cols)].first().dropna(how="all").reset_index()
        out.append(ref.rename(columns=cols).assign(divergence=label))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["task", "init", "divergence", "seed"])


def final_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± sd over seeds of every final metric, per (task, init, divergence), then the references'
    (`reference_runs`) of the same metrics."""
    runs = pd.concat([runs, reference_runs(runs)], ignore_index=True)
    long = runs.melt(id_vars=["task", "init", "divergence", "seed"], value_vars=_present(runs), var_name="metric").dropna()
    g = long.groupby(["task", "init", "metric", "divergence"])["value"]
    return g.agg(mean="mean", sd="std", n="count").reset_index()


def paired_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per-seed differences (divergence − reverse-KL) of every metric; `lower` counts seeds below RKL."""
    rows = []
    for (task, init), grp in runs.groupby(["task", "init"]):
        base = grp[grp["divergence"] == "rkl"].set_index("seed")
        for div, other in grp[grp["divergence"] != "rkl"].groupby("divergence"):
            other = other.set_index("seed")
            for m in _present(grp):
                diff = (other[m] - base[m]).dropna()
                if len(diff):
                    rows.append(
                        dict(
                            task=task,
                            init=init,
                            divergence=div,
                            metric=m,
                            mean_diff=float(diff.mean()),
                            sd_diff=float(diff.std()) if len(diff) > 1 else float("nan"),
                            n=len(diff),
                            lower=int((diff < 0).sum()),
                        )
                    )
    return pd.DataFrame(rows, columns=["task", "init", "divergence", "metric", "mean_diff", "sd_diff", "n", "lower"])


def trajectory_table(runs: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, r in runs.iterrows():
        for metric, values in r["trajectory"].items():
            for step, v in zip(r["eval_steps"], values):
                rows.append(
                    dict(
                        task=r["task"],
                        init=r["init"],
                        divergence=r["divergence"],
                        seed=r["seed"],
                        step=int(step),
                        metric=metric,
                        value=v,
                    )
                )
    return pd.DataFrame(rows)


def floor_table(runs: pd.DataFrame) -> pd.DataFrame:
    """The data-vs-data floors (every task), the teacher's multi-step reference and the toy's direct fit
    (with its loss and its metrics' change over the last fifth of training), per task and seed."""
    cols = [c for c in runs if c.startswith(("floor_", "teacher_", "direct_"))]
    return runs.groupby(["task", "seed"])[cols].first().dropna(how="all").reset_index()


ABLATION_METRICS = ["fd", "tv", "coverage", "precision", "recall"]


def ablation_runs(runs: pd.DataFrame, ablation: dict) -> pd.DataFrame:
    """The ablation's runs beside the method's own (both normalisations: the main toy run of the same divergence
    and seeds), with a `variant` column; empty without an ablation."""
    if not ablation or not len(runs) or "task" not in runs:
        return pd.DataFrame(columns=["variant", "seed", *ABLATION_METRICS])
    div = ablation["divergence"]
    both = runs[(runs["task"] == "toy") & (runs["init"] == "normal") & (runs["divergence"] == div)].assign(variant="both")
    rest = runs[runs["task"] == "toy_ablation"].copy()
    rest["variant"] = rest["divergence"].str.removeprefix(f"{div}_")
    return pd.concat([both, rest], ignore_index=True)


def ablation_table(runs: pd.DataFrame, ablation: dict) -> pd.DataFrame:
    """Per variant and metric: mean ± sd over seeds, and the paired difference from the method (both on)."""
    ab = ablation_runs(runs, ablation)
    rows = []
    base = ab[ab["variant"] == "both"].set_index("seed")
    for variant, grp in ab.groupby("variant", sort=False):
        g = grp.set_index("seed")
        for m in [m for m in ABLATION_METRICS if m in g]:
            diff = (g[m] - base[m]).dropna() if m in base else pd.Series(dtype=float)
            rows.append(
                dict(
                    variant=variant,
                    metric=m,
                    mean=float(g[m].mean()),
                    sd=float(g[m].std()) if len(g) > 1 else float("nan"),
                    n=int(g[m].notna().sum()),
                    diff_vs_both=float(diff.mean()) if len(diff) else float("nan"),
                    sd_diff=float(diff.std()) if len(diff) > 1 else float("nan"),
                )
            )
    return pd.DataFrame(rows, columns=["variant", "metric", "mean", "sd", "n", "diff_vs_both", "sd_diff"])


def ablation_figure(runs: pd.DataFrame, job: Job, figs: Path) -> None:
    """Samples of seed 0 per variant (the method's from the main toy job) and bars of the final metrics."""
    import matplotlib.pyplot as plt

    ablation = job.cfg.get("ablation") or {}
    ab = ablation_runs(runs, ablation)
    files = {Path(p).stem: p for p in job.inputs if p.endswith(".npz")}
    if not len(ab) or "toy_ablation" not in files:
        return
    variants = list(dict.fromkeys(ab["variant"]))
    fig, axes = plt.subplots(1, len(variants) + 3, figsize=(2.3 * (len(variants) + 3), 2.4), squeeze=False)
    div = ablation["divergence"]
    for ax, variant in zip(axes[0], variants):
        data = np.load(files["toy_normal" if variant == "both" else "toy_ablation"])
        label = div if variant == "both" else f"{div}_{variant}"
        names, seeds = list(data["names"]), list(data["seeds"])
        i = [k for k, (n, sd) in enumerate(zip(names, seeds)) if n == label and sd == min(seeds)]
        ax.scatter(*data["reference"].T, s=1, c="0.8")
        if i:
            ax.scatter(*data["samples"][i[0]].T, s=1, c="C0")
        ax.set_title(f"{NAMES.get(div, div)}: {variant}", fontsize=7)
        ax.set_aspect("equal")
    for ax, m in zip(axes[0][len(variants) :], ("fd", "tv", "precision")):
        g = ab.groupby("variant", sort=False)[m]
        ax.bar(variants, g.mean().reindex(variants), yerr=g.std().reindex(variants), color="C0")
        ax.set_title(f"{m} (mean ± sd over seeds)", fontsize=7)
        ax.tick_params(axis="x", labelsize=6, rotation=30)
    save_figure(fig, figs / "ablation")


TOY_SAMPLE_REFERENCES = {"teacher": "teacher (Heun)", "direct": "direct fit (Sinkhorn)"}  # arrays of the toy samples file


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    import matplotlib.pyplot as plt
    import seaborn as sns

    tables, figs = paper_dir / "tables", paper_dir / "figures"
    write_table(final_table(runs), tables / "metrics_final")
    write_table(paired_table(runs), tables / "paired_vs_rkl")
    traj = trajectory_table(runs)
    write_table(traj, tables / "trajectories")
    write_table(floor_table(runs), tables / "floors")
    write_table(ablation_table(runs, job.cfg.get("ablation") or {}), tables / "ablation")
    ablation_figure(runs, job, figs)
    # the figures below show the divergences; the ablation has its own figure
    runs = runs[runs["task"] != "toy_ablation"] if "task" in runs else runs
    traj = traj[traj["task"] != "toy_ablation"] if len(traj) else traj
    order = [d for d in NAMES if d in set(runs["divergence"])]

    # samples per divergence on the 2-D task (seed 0 of each start)
    toy_files = sorted(
        p for p in job.inputs if Path(p).name.startswith("toy_") and p.endswith(".npz") and Path(p).stem != "toy_ablation"
    )
    inits = [Path(p).stem.removeprefix("toy_") for p in toy_files]
    refs = [r for r in TOY_SAMPLE_REFERENCES if any(r in np.load(p) for p in toy_files)]
    cols = len(order) + len(refs)
    fig, axes = plt.subplots(
        max(1, len(toy_files)),
        cols,
        figsize=(2.2 * cols, 2.2 * max(1, len(toy_files))),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    for row, (path, init) in enumerate(zip(toy_files, inits)):
        data = np.load(path)
        names, seeds = list(data["names"]), list(data["seeds"])
        for col, div in enumerate(order):
            ax = axes[row, col]
            ax.scatter(*data["reference"].T, s=1, c="0.8")
            if div in names:
                i = [k for k, (n, s) in enumerate(zip(names, seeds)) if n == div and s == min(seeds)][0]
                ax.scatter(*data["samples"][i].T, s=1, c="C0")
            ax.set_title(f"{NAMES[div]} ({init})", fontsize=7)
            ax.set_aspect("equal")
        for col, ref in enumerate(refs, start=len(order)):  # the references' samples of the first seed
            ax = axes[row, col]
            ax.scatter(*data["reference"].T, s=1, c="0.8")
            if ref in data:
                ax.scatter(*data[ref][0].T, s=1, c="C1")
            ax.set_title(TOY_SAMPLE_REFERENCES[ref], fontsize=7)
            ax.set_aspect("equal")
    save_figure(fig, figs / "toy_samples")

    # metric trajectories (mean over seeds)
    if len(traj):
        g = sns.relplot(
            data=traj,
            x="step",
            y="value",
            hue="divergence",
            hue_order=order,
            col="metric",
            row=traj["task"] + "/" + traj["init"],
            kind="line",
            errorbar="sd",
            facet_kws={"sharey": False},
            height=2.0,
            aspect=1.2,
        )
        save_figure(g.figure, figs / "trajectories")

    # final metric bars (mean ± sd over seeds)
    long = runs.melt(id_vars=["task", "init", "divergence", "seed"], value_vars=_present(runs), var_name="metric").dropna()
    g = sns.catplot(
        data=long,
        x="divergence",
        y="value",
        order=order,
        col="metric",
        row=long["task"] + "/" + long["init"],
        kind="bar",
        errorbar="sd",
        sharey=False,
        height=2.0,
        aspect=1.0,
    )
    save_figure(g.figure, figs / "metric_bars")

    # digits sample grids (seed 0 of each divergence)
    dig = [p for p in job.inputs if Path(p).name.startswith("digits_") and p.endswith(".npz")]
    if dig:
        data = np.load(dig[0])
        names, seeds = list(data["names"]), list(data["seeds"])
        dorder = [d for d in NAMES if d in names]
        fig, axes = plt.subplots(1, len(dorder) + 2, figsize=(2.4 * (len(dorder) + 2), 2.6), squeeze=False)
        teacher = [("teacher (Heun)", data["teacher"][:64])] if "teacher" in data else []
        panels = [("data", data["real"][:64]), *teacher] + [
            (NAMES[d], data["samples"][[k for k, (n, s) in enumerate(zip(names, seeds)) if n == d and s == min(seeds)][0]][:64])
            for d in dorder
        ]
        for ax, (title, imgs) in zip(axes[0], panels):
            grid = imgs.reshape(8, 8, 8, 8).transpose(0, 2, 1, 3).reshape(64, 64)
            ax.imshow(grid, cmap="gray_r", vmin=-1, vmax=1)
            ax.set_title(title, fontsize=8)
            ax.axis("off")
        save_figure(fig, figs / "digits_samples")
