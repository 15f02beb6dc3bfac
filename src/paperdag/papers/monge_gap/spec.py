"""What the Monge-gap jobs are, where they write, and which settings each depends on.

Light on purpose (no torch): the Snakefile imports it to build the DAG.
One training job = one (benchmark, method) pair, all dimensions and seeds inside it
(seeds batched into one model); one metrics.json per (benchmark, dim, method, seed).
"""
from __future__ import annotations

from typing import Any

from paperdag.contract import Stage

RUN = "runs/{benchmark}/d{dim}/{method}/seed{seed}/metrics.json"


STAGES = (
    Stage("train", tag="{benchmark}/{method}"),
    Stage("maps2d"),  # the 2-D figure: one map per cost, trained by its own small job
    Stage("report", heavy=False),
)


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage != "train":
        return [{}]
    return [{"benchmark": b, "method": m} for b in cfg["benchmarks"] for m in cfg["methods"]]


def run_files(cfg: dict[str, Any], benchmark: str = "{benchmark}", method: str = "{method}") -> list[str]:
    return [RUN.format(benchmark=benchmark, method=method, dim=d, seed=s) for d in cfg["dims"] for s in cfg["seeds"]]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "train":
        return run_files(cfg)
    if stage == "maps2d":  # the 2-D figure: one map per cost, trained by its own small job
        return ["maps2d/maps.npz"]
    if stage == "report":
        tables = ["tables/l2_uvp", "tables/summary"]
        return ["claims.json"] + [f"{t}.{ext}" for t in tables for ext in ("csv", "md", "tex")] + [
            f"figures/{f}.{ext}" for f in ("l2_uvp_vs_dim", "maps_2d") for ext in ("png", "pdf")]
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "report":
        return [f for g in groups(cfg, "train") for f in run_files(cfg, **g)] + ["maps2d/maps.npz"]
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: changing one method's settings reruns only that method."""
    shared = {k: cfg[k] for k in ("dims", "seeds", "n_eval", "n_eval_sinkhorn", "n_exact_mg", "eval_blur", "data")}
    if stage == "maps2d":
        return {"maps2d": cfg["maps2d"], "training": cfg["training"]}
    if stage == "train":
        return {**shared, "benchmark": wildcards["benchmark"], "method": cfg["methods"][wildcards["method"]],
                "training": cfg["training"]}
    return {**shared, "benchmarks": cfg["benchmarks"], "methods": cfg["methods"], "claims": cfg["claims"]}
