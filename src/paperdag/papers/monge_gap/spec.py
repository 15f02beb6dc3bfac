"""What the Monge-gap jobs are, where they write, and which settings each depends on.

Light on purpose (no torch): the workflow imports it to build the DAG.
One training job = one benchmark × one entry of config `jobs` (methods trained in one
process: the closed-form baselines, the MLP maps as one batched model, the ICNN), all
dimensions and seeds inside it; one metrics.json per (benchmark, dim, method, seed).
"""
from __future__ import annotations

from typing import Any

from paperdag.contract import Stage, report_outputs

RUN = "runs/{benchmark}/d{dim}/{method}/seed{seed}/metrics.json"
MAPS2D = "maps2d/maps.npz"
TABLES = ("l2_uvp", "summary", "fit")
FIGURES = ("l2_uvp_vs_dim", "maps_2d", "curves")

STAGES = (
    Stage("train", tag="{benchmark}/{job}", split="jobs"),  # one rule per job of methods
    Stage("maps2d"),  # the 2-D figure: one map per cost, trained by its own small job
    Stage("report", heavy=False),
)


def job_methods(cfg: dict[str, Any], job: str) -> list[str]:
    """The configured methods a job trains (config `jobs`), in config order."""
    return [m for m in cfg["jobs"][job] if m in cfg["methods"]]


def run_files(cfg: dict[str, Any], job: str, benchmark: str = "{benchmark}") -> list[str]:
    return [RUN.format(benchmark=benchmark, method=m, dim=d, seed=s)
            for d in cfg["dims"] for m in job_methods(cfg, job) for s in cfg["seeds"]]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "train":
        return run_files(cfg, wildcards["job"])
    if stage == "maps2d":
        return [MAPS2D]
    if stage == "report":
        return report_outputs(TABLES, FIGURES)
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "report":
        return [f for b in cfg["benchmarks"] for j in cfg["jobs"] for f in run_files(cfg, j, b)] + [MAPS2D]
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: changing one method's settings reruns only its job."""
    shared = {k: cfg[k] for k in ("dims", "seeds", "n_eval", "n_eval_sinkhorn", "n_exact_mg", "eval_blur",
                                  "shrink_control", "data")}
    if stage == "maps2d":
        return {"maps2d": cfg["maps2d"], "training": cfg["training"], "data": {"brenier": cfg["data"]["brenier"]}}
    if stage == "train":
        names = job_methods(cfg, wildcards["job"])
        return {**shared, "benchmark": wildcards["benchmark"], "job_methods": names,
                "methods": {m: cfg["methods"][m] for m in names}, "training": cfg["training"]}
    return {**shared, "benchmarks": cfg["benchmarks"], "methods": cfg["methods"], "claims": cfg["claims"]}
