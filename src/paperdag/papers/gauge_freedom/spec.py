"""What the gauge-freedom jobs are, where they write, and which settings each depends on.

Light on purpose (no torch): the Snakefile imports it to build the DAG.
- `analytic`: one job, exact scores only (GMM sampling under gauge, grid checks, exact-score ID).
- `train`: one job per model kind, training each manifold in turn (all seeds as one batched model) in
  one process, so the imports are paid twice, not six times; one metrics.json per (manifold, kind, seed).
  A by-hand run may name `manifold=...` to train that manifold only.
- `report`: tables, figures and claims.json.
"""

from __future__ import annotations

from typing import Any

from paperdag.contract import Stage, report_outputs

TRAINED_RUN = "trained/{manifold}/{kind}/seed{seed}/metrics.json"
TRAINED_CURVES = "trained/{manifold}/{kind}/curves.npz"
FIGURE5_RUN = "trained/figure5/{manifold}_D{dim}/{kind}/metrics.json"
FIGURE5_CURVES = "trained/figure5/{kind}/curves.npz"
GMM_RUN = "analytic/gmm/{variant}/seed{seed}/metrics.json"
EXACT_RUN = "analytic/exact/{manifold}/metrics.json"
GAUGE_CHECK = "analytic/gauge_check/metrics.json"
ANALYTIC_CURVES = "analytic/curves.npz"
TABLES = ("id_estimates", "gmm_gauge", "exact_id", "trained_runs", "figure5")
FIGURES = ("spectra", "trajectories", "gauge_samples", "figure5")


STAGES = (
    Stage("analytic", gpu=False),
    Stage("train", tag="{kind}", constraints={"kind": r"conservative|unconstrained"}),
    Stage("report", heavy=False),
)


def trained_run(manifold: str, kind: str, seed: int | str) -> str:
    return TRAINED_RUN.format(manifold=manifold, kind=kind, seed=seed)


def trained_curves(manifold: str, kind: str) -> str:
    return TRAINED_CURVES.format(manifold=manifold, kind=kind)


def figure5_run(manifold: str, dim: int, kind: str) -> str:
    return FIGURE5_RUN.format(manifold=manifold, dim=dim, kind=kind)


def figure5_curves(kind: str) -> str:
    return FIGURE5_CURVES.format(kind=kind)


def _figure5_files(cfg: dict[str, Any], kind: str) -> list[str]:
    """The Figure 5 models' files of one kind (none where the scale does not configure them)."""
    f5 = cfg.get("figure5")
    if not f5:
        return []
    return [figure5_run(m, d, kind) for d in f5["dims"] for m in f5["manifolds"]] + [figure5_curves(kind)]


def gmm_run(variant: str, seed: int) -> str:
    return GMM_RUN.format(variant=variant, seed=seed)


def exact_run(manifold: str) -> str:
    return EXACT_RUN.format(manifold=manifold)


CONTROL_VARIANTS = ("wider", "reweighted")  # exact draws from a wrong mixture: what the sampling check must reject


def gmm_variants(cfg: dict[str, Any]) -> list[str]:
    return ["truth", *CONTROL_VARIANTS] + [f"c{c:g}" for c in cfg["gmm"]["c_values"]]


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage != "train":
        return [{}]
    return [{"kind": k} for k in cfg["kinds"]]


def train_manifolds(cfg: dict[str, Any], wildcards: dict[str, str]) -> list[str]:
    """The manifolds one train job fits: all of the scale's, or the one a by-hand run names."""
    return [wildcards["manifold"]] if "manifold" in wildcards else list(cfg["manifolds"])


def manifold_steps(training: dict[str, Any], manifold: str) -> int:
    """Training steps of one manifold's models: `training.steps` is one count for every manifold, or a
    mapping manifold -> count (the Swiss roll's curved normal needs longer training than S² or the torus)."""
    steps = training["steps"]
    if isinstance(steps, int):
        return steps
    if manifold not in steps:
        raise KeyError(f"gauge_freedom training.steps names no step count for manifold {manifold!r} (it names {sorted(steps)})")
    return int(steps[manifold])


def _trained_files(cfg: dict[str, Any], manifold: str, kind: str) -> list[str]:
    return [trained_run(manifold, kind, s) for s in cfg["seeds"]] + [trained_curves(manifold, kind)]


def _analytic_files(cfg: dict[str, Any]) -> list[str]:
    gmm = [gmm_run(v, s) for v in gmm_variants(cfg) for s in cfg["gmm"]["seeds"]]
    return gmm + [exact_run(m) for m in cfg["exact_manifolds"]] + [GAUGE_CHECK, ANALYTIC_CURVES]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "analytic":
        return _analytic_files(cfg)
    if stage == "train":
        by_hand = "manifold" in wildcards  # a by-hand run of one manifold skips the Figure 5 models
        return [f for m in train_manifolds(cfg, wildcards) for f in _trained_files(cfg, m, "{kind}")] + (
            [] if by_hand else _figure5_files(cfg, "{kind}")
        )
    if stage == "report":
        return report_outputs(TABLES, FIGURES)
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "report":
        trained = [f for m in cfg["manifolds"] for k in cfg["kinds"] for f in _trained_files(cfg, m, k)]
        return _analytic_files(cfg) + trained + [f for k in cfg["kinds"] for f in _figure5_files(cfg, k)]
    return []


_SHARED = ("ambient_dim", "embed_seed", "sigma_min", "sigma_max", "id", "trajectories")


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: retraining one manifold × kind does not rerun the others."""
    shared = {k: cfg[k] for k in _SHARED}
    if stage == "analytic":
        return {
            **shared,
            "exact_manifolds": cfg["exact_manifolds"],
            "control_normal_scale": cfg["control_normal_scale"],
            "gauge": cfg["gauge"],
            "gmm": cfg["gmm"],
            "grid": cfg["grid"],
        }
    if stage == "train":
        trained = train_manifolds(cfg, wildcards)
        # steps resolved per trained manifold: a by-hand run of one manifold depends on its own count only
        training = {**cfg["training"], "steps": {m: manifold_steps(cfg["training"], m) for m in trained}}
        out = {**shared, "manifolds": trained, "seeds": cfg["seeds"], "model": cfg["model"], "training": training}
        if cfg.get("figure5") and "manifold" not in wildcards:
            out["figure5"] = cfg["figure5"]
        return out
    if stage == "report":
        return {
            "manifolds": cfg["manifolds"],
            "kinds": cfg["kinds"],
            "figure5": {k: cfg["figure5"][k] for k in ("manifolds", "dims")} if cfg.get("figure5") else None,
            "exact_manifolds": cfg["exact_manifolds"],
            "control_normal_scale": cfg["control_normal_scale"],
            "gmm": {k: cfg["gmm"][k] for k in ("c_values", "moment_tolerance", "loglik_control_scale")},
            "id": {"sigma_star_factor": cfg["id"]["sigma_star_factor"], "adequacy": cfg["id"]["adequacy"]},
        }
    raise KeyError(stage)
