"""Tables and figures of the gauge-freedom runs (called by `paperdag.aggregate.report_paper`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paperdag.claims import MissingRuns
from paperdag.figures import plt, save_figure
from paperdag.papers.gauge_freedom import spec
from paperdag.papers.gauge_freedom.claims import id_rows
from paperdag.stage import Job
from paperdag.tables import write_table

ID_COLS = ["mean_id", "share_exact", "share_k_plus_1", "share_within_1"]


def _safe_id_rows(runs: pd.DataFrame, run_type: str) -> pd.DataFrame:
    try:
        return id_rows(runs, run_type)
    except MissingRuns:
        return pd.DataFrame()


def id_table(runs: pd.DataFrame) -> pd.DataFrame:
    """ID estimates per manifold × model × rule × σ (trained: mean over seeds)."""
    parts = []
    ex = _safe_id_rows(runs, "exact")
    if len(ex):
        parts.append(ex.assign(n_seeds=1)[["manifold", "k", "model", "rule", "sigma_factor", "sigma", *ID_COLS, "n_seeds"]])
    tr = _safe_id_rows(runs, "trained")
    if len(tr):
        g = tr.groupby(["manifold", "k", "model", "rule", "sigma_factor", "sigma"], as_index=False)
        parts.append(g[ID_COLS].mean().merge(g["seed"].nunique().rename(columns={"seed": "n_seeds"})))
    if not parts:
        return pd.DataFrame(columns=["manifold", "k", "model", "rule", "sigma_factor", "sigma", *ID_COLS, "n_seeds"])
    return pd.concat(parts, ignore_index=True).sort_values(["manifold", "rule", "sigma_factor", "model"], ignore_index=True)


def exact_table(runs: pd.DataFrame) -> pd.DataFrame:
    ex = _safe_id_rows(runs, "exact")
    if not len(ex):
        return pd.DataFrame(columns=["manifold"])
    cols = ["manifold", "variant", "rule", "sigma_factor", "sigma", *ID_COLS, "share_changed"]
    return ex.reindex(columns=cols).sort_values(["manifold", "rule", "sigma_factor", "variant"], ignore_index=True)


def gmm_table(runs: pd.DataFrame) -> pd.DataFrame:
    gmm = runs[runs["run_type"] == "gmm"] if "run_type" in runs else runs.iloc[0:0]
    if not len(gmm):
        return pd.DataFrame(columns=["variant"])
    agg = gmm.groupby("variant")["sinkhorn"].agg(["mean", "std", "min", "max", "count"]).reset_index()
    agg.columns = ["variant", "sinkhorn_mean", "sinkhorn_std", "sinkhorn_min", "sinkhorn_max", "n_seeds"]
    if "mode_moment_error" in gmm:
        moments = gmm.groupby("variant")["mode_moment_error"].agg(["mean", "std"]).reset_index()
        moments.columns = ["variant", "mode_moment_error_mean", "mode_moment_error_std"]
        agg = agg.merge(moments, how="left")
    for col in ("loglik_diff_vs_c0_per_dim", "loglik_diff_control_per_dim", "loglik_err_vs_exact_per_dim"):
        if col in gmm:
            agg = agg.merge(gmm.groupby("variant")[col].max().reset_index(), how="left")
    return agg


def trained_table(runs: pd.DataFrame) -> pd.DataFrame:
    tr = runs[runs["run_type"] == "trained"] if "run_type" in runs else runs.iloc[0:0]
    cols = [
        "manifold",
        "model",
        "seed",
        "steps",
        "sigma_star",
        "share_exact_star",
        "share_exact_star_log_gap",
        "non_conservativity_mean",
        "non_conservativity_max",
        "normal_ratio",
        "normal_ratio_exact",
        "last_logged_loss",
    ]
    if not len(tr):
        return pd.DataFrame(columns=cols)
    star = _safe_id_rows(runs, "trained")
    star = (
        star[star["is_sigma_star"]]
        .pivot_table(index=["manifold", "model", "seed"], columns="rule", values="share_exact")
        .reset_index()
    )
    star = star.rename(columns={"gap": "share_exact_star", "log_gap": "share_exact_star_log_gap"})
    out = tr.merge(star, on=["manifold", "model", "seed"])
    return out.reindex(columns=cols).sort_values(["manifold", "model", "seed"], ignore_index=True)


FIGURE5_COLS = [
    "manifold",
    "ambient_dim",
    "model",
    "steps",
    "distance_median",
    "distance_p90",
    "exact_ode_distance_median",
    "exact_draws_distance_median",
    "traj_share_k",
    "exact_ode_traj_share_k",
    "last_logged_loss",
]


def figure5_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (manifold, D, kind): the ODE end points' distance to the manifold and the flow-Jacobian
    rule's share of k, beside the exact score's ODE (S²) and exact draws from p_σmin."""
    f5 = runs[runs["run_type"] == "figure5"] if "run_type" in runs else runs.iloc[0:0]
    return f5.reindex(columns=FIGURE5_COLS).sort_values(["manifold", "ambient_dim", "model"], ignore_index=True)


def _figure5(paper_dir: Path, cfg: dict[str, Any]) -> plt.Figure:
    """Figure 5 analogue: flow-Jacobian singular values along the ODE (median over trajectories) for each
    (manifold, D) and kind, the exact score's where it is closed-form, and the end points' distances."""
    f5 = cfg.get("figure5") or {"manifolds": [], "dims": []}
    rows = [(m, d) for m in f5["manifolds"] for d in f5["dims"]]
    curves = {k: _load(paper_dir / spec.figure5_curves(k)) for k in cfg["kinds"]}
    cols = [*cfg["kinds"], "exact score", "distance"]
    fig, axes = plt.subplots(max(len(rows), 1), len(cols), figsize=(3.4 * len(cols), 2.8 * max(len(rows), 1)), squeeze=False)
    for row, (name, dim) in zip(axes, rows):
        key = f"{name}_D{dim}"
        for ax, col in zip(row, cols):
            if col == "distance":
                some = next((c for c in curves.values() if c is not None and f"dist_{key}" in c), None)
                hists = {k: c[f"dist_{key}"] for k, c in curves.items() if c is not None and f"dist_{key}" in c}
                if some is not None:
                    hists["exact draws"] = some[f"dist_{key}_draws"]
                    if f"dist_{key}_exact" in some:
                        hists["exact-score ODE"] = some[f"dist_{key}_exact"]
                bins = np.logspace(-3.5, 0.5, 33)
                for label, d in hists.items():
                    ax.hist(np.clip(d, bins[0], bins[-1]), bins=bins, histtype="step", label=label)
                ax.set(xscale="log", title=f"{name}, D = {dim}: end points", xlabel="distance to the manifold")
                ax.legend(fontsize=7)
                continue
            cur = next((c for c in curves.values() if c is not None), None) if col == "exact score" else curves.get(col)
            svs = None if cur is None else cur.get(f"traj_{key}_exact" if col == "exact score" else f"traj_{key}")
            if svs is None:
                ax.set_axis_off()
                continue
            ax.loglog(cur["sigmas"], np.median(svs, axis=0))
            ax.invert_xaxis()
            ax.set(title=f"{name}, D = {dim}, {col}", xlabel="σ (ODE runs right)", ylabel="median s.v. of ∂φ/∂x₁")
    fig.tight_layout()
    return fig


def _load(path: Path) -> dict[str, np.ndarray] | None:
    return dict(np.load(path)) if path.exists() else None


def _spectra_figure(paper_dir: Path, cfg: dict[str, Any]) -> plt.Figure:
    analytic = _load(paper_dir / spec.ANALYTIC_CURVES) or {}
    names = cfg["manifolds"]
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        for label, arr in [
            ("exact", analytic.get(f"spectra_{name}_exact")),
            ("exact + ID gauge", analytic.get(f"spectra_{name}_id_gauge")),
            ("weak normal (control)", analytic.get(f"spectra_{name}_weak_normal")),
        ]:
            if arr is not None:
                style = {"exact": "k-", "exact + ID gauge": "k:"}.get(label, "C7--")
                ax.semilogy(np.arange(1, arr.shape[-1] + 1), arr.mean(0), style, label=label)
        for kind, style in (("conservative", "C0-o"), ("unconstrained", "C3-s")):
            cur = _load(paper_dir / spec.trained_curves(name, kind))
            if cur is not None and cur["spectra_star"].size:
                ax.semilogy(
                    np.arange(1, cur["spectra_star"].shape[-1] + 1),
                    cur["spectra_star"][0].mean(0),
                    style,
                    ms=3,
                    label=f"{kind} (seed 0)",
                )
        ax.set(title=f"{name}: centred score spectrum at σ*", xlabel="index i", ylabel="mean singular value")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def _trajectory_figure(paper_dir: Path, cfg: dict[str, Any]) -> plt.Figure:
    analytic = _load(paper_dir / spec.ANALYTIC_CURVES) or {}
    names = cfg["manifolds"]
    panels = [("exact", None), ("weak normal (control)", "weak_normal")] + [(k, k) for k in cfg["kinds"]]
    fig, axes = plt.subplots(len(names), len(panels), figsize=(3.6 * len(panels), 3.0 * len(names)), squeeze=False)
    for row, name in zip(axes, names):
        for ax, (label, kind) in zip(row, panels):
            if kind in (None, "weak_normal"):
                svs, sig = analytic.get(f"traj_{name}_{kind or 'exact'}"), analytic.get("traj_sigmas")
                svs = svs[0] if svs is not None else None
            else:
                cur = _load(paper_dir / spec.trained_curves(name, kind))
                svs, sig = (cur["traj"][0, 0], cur["traj_sigmas"]) if cur is not None else (None, None)
            if svs is None:
                ax.set_axis_off()
                continue
            ax.loglog(sig, svs)
            ax.invert_xaxis()
            ax.set(title=f"{name}, {label}", xlabel="σ (ODE runs right)", ylabel="singular values of ∂φ/∂x₁")
    fig.tight_layout()
    return fig


def _samples_figure(paper_dir: Path) -> plt.Figure:
    analytic = _load(paper_dir / spec.ANALYTIC_CURVES) or {}
    keys = ["gmm_reference"] + sorted(k for k in analytic if k.startswith("gmm_c"))
    fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False)
    for ax, key in zip(axes[0], keys):
        pts = analytic[key]
        ax.scatter(pts[:, 0], pts[:, 1], s=1, alpha=0.4)
        ax.set(title={"gmm_reference": "reference p_σmin"}.get(key, f"ODE samples, gauge {key[4:]}"), aspect="equal")
    fig.tight_layout()
    return fig


def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
    cfg = job.cfg
    paper_dir = Path(paper_dir)
    write_table(id_table(runs), paper_dir / "tables" / "id_estimates")
    write_table(gmm_table(runs), paper_dir / "tables" / "gmm_gauge")
    write_table(exact_table(runs), paper_dir / "tables" / "exact_id")
    write_table(trained_table(runs), paper_dir / "tables" / "trained_runs")
    write_table(figure5_table(runs), paper_dir / "tables" / "figure5")
    save_figure(_spectra_figure(paper_dir, cfg), paper_dir / "figures" / "spectra")
    save_figure(_trajectory_figure(paper_dir, cfg), paper_dir / "figures" / "trajectories")
    save_figure(_samples_figure(paper_dir), paper_dir / "figures" / "gauge_samples")
    save_figure(_figure5(paper_dir, cfg), paper_dir / "figures" / "figure5")
