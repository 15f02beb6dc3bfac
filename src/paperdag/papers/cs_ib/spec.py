"""What the CS-IB jobs are, where they write, and which settings each depends on.

Light on purpose (no torch, no pandas): the Snakefile imports it to build the DAG.
Stages:
- `download` (paper scale only): one job per dataset with `files` (URL + sha256) in config.
- `train`: one job per dataset; all (method, β, seed) runs of that dataset are one batched
  model; one metrics.json per run.
- `gen_study`: the paper's generalisation study, one job (about 100 small MLPs batched per
  architecture); one networks.json.
- `report`: tables, figures and claims.json.
"""

from __future__ import annotations

from typing import Any

from paperdag.contract import Stage, report_outputs

RUN = "runs/{dataset}/{method}/beta{beta}/seed{seed}/metrics.json"
GEN_STUDY = "runs/gen_study/networks.json"
TABLES = ["rmse", "mae", "rmse_official_best", "selected_beta", "fgsm_auc", "paired_vs_best_baseline", "runs", "gen_study"]
FIGURES = ["information_plane", "fgsm_curves", "training_curves", "gen_study"]


STAGES = (
    Stage("download", heavy=False, tag="{dataset}"),
    Stage("train", tag="{dataset}", threads=1),  # one thread: the most work per CPU-second
    Stage("gen_study", threads=1),
    Stage("report", heavy=False),
)


def beta_tag(beta: float) -> str:
    """A stable path-safe spelling of β (e.g. 0, 0.001, 1e-05)."""
    return format(float(beta), "g")


def run_list(cfg: dict[str, Any]) -> list[tuple[str, float, int]]:
    """(method, β, seed) of every run of one dataset, in a stable order."""
    return [(m, float(b), int(s)) for m in cfg["method_list"] for b in cfg["methods"][m]["betas"] for s in cfg["seeds"]]


def run_files(cfg: dict[str, Any], dataset: str = "{dataset}") -> list[str]:
    return [RUN.format(dataset=dataset, method=m, beta=beta_tag(b), seed=s) for m, b, s in run_list(cfg)]


def downloaded(cfg: dict[str, Any]) -> list[str]:
    return [d for d in cfg["datasets"] if cfg["data_sources"][d].get("files")]


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage == "train":
        return [{"dataset": d} for d in cfg["datasets"]]
    if stage == "download":
        return [{"dataset": d} for d in downloaded(cfg)]
    return [{}]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "download":
        return ["data/{dataset}/manifest.json"]
    if stage == "train":
        return run_files(cfg)
    if stage == "gen_study":
        return [GEN_STUDY]
    if stage == "report":
        return report_outputs(TABLES, FIGURES)
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "train":
        d = wildcards["dataset"]
        return [f"data/{d}/manifest.json"] if cfg["data_sources"][d].get("files") else []
    if stage == "gen_study":
        d = cfg["gen_study"]["dataset"]
        return [f"data/{d}/manifest.json"] if cfg["data_sources"][d].get("files") else []
    if stage == "report":
        return [f for d in cfg["datasets"] for f in run_files(cfg, d)] + [GEN_STUDY]
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: changing one dataset's or method's settings reruns only its jobs."""
    if stage == "download":
        return {"dataset": wildcards["dataset"], "files": cfg["data_sources"][wildcards["dataset"]]["files"]}
    if stage == "train":
        d = wildcards["dataset"]
        return {
            "dataset": d,
            "source": cfg["data_sources"][d],
            "data": cfg["data"],
            "estimator": cfg["estimator"],
            "network": cfg["network"],
            "training": cfg["training"],
            "seeds": cfg["seeds"],
            "methods": {m: cfg["methods"][m] for m in cfg["method_list"]},
            "method_list": cfg["method_list"],
            "evaluation": cfg["evaluation"],
        }
    if stage == "gen_study":
        g = cfg["gen_study"]
        return {"study": g, "source": cfg["data_sources"][g["dataset"]], "data": cfg["data"], "estimator": cfg["estimator"]}
    return {
        "datasets": cfg["datasets"],
        "tabular_datasets": [d for d in cfg["datasets"] if cfg["data_sources"][d].get("tabular", True)],
        "labels": {d: cfg["data_sources"][d]["label"] for d in cfg["datasets"]},
        "info_plane_dataset": cfg["info_plane_dataset"],
        "method_list": cfg["method_list"],
        "baseline_methods": [m for m in cfg["method_list"] if cfg["methods"][m]["kind"] != "cs_ib"],
        "betas": {m: cfg["methods"][m]["betas"] for m in cfg["method_list"]},
        "fgsm_eps": cfg["evaluation"]["fgsm_eps"],
        "claims": cfg["claims"],
        "gen_study": cfg["gen_study"],
    }
