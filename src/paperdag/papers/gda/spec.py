"""What the GDA jobs are, where they write, and which settings each depends on.

Light on purpose (no torch, no pandas): the Snakefile imports it to build the DAG.

* `simulate` (one job, numpy only): every cell (panel, d, m, γ) of the bGMM panels; one
  metrics.json per cell, holding the per-repeat gaps.
* `augment` (one job per digits dataset): generators fitted on m real digits, then one batched
  classifier over (generator, m, γ, seed); one metrics.json per (generator, m, γ, seed).
  γ = 0 is the generator-free baseline, written under generator `none`.
* `report`: tables, figures, claims.json.
"""
from __future__ import annotations

from typing import Any

SIM_RUN = "runs/sim/{panel}/d{d}_m{m}/gamma{gamma}/metrics.json"
DIGITS_RUN = "runs/digits/{dataset}/{generator}/m{m}_g{gamma}/seed{seed}/metrics.json"
BASELINE = "none"

TABLES = ("bgmm_gaps", "bgmm_slopes", "bgmm_theory")
FIGURES = ("figure1",)
DIGITS_TABLES = ("digits_summary",)
DIGITS_FIGURES = ("digits",)


def sim_cells(cfg: dict[str, Any]) -> list[dict[str, int | str]]:
    """Every (panel, d, m, γ) cell of the configured panels, without duplicates, in config order."""
    cells, seen = [], set()
    for row in cfg["simulation"]["panels"]:
        for d in row["d"]:
            for m in row["m"]:
                for g in row["gamma"]:
                    key = (row["panel"], d, m, g)
                    if key not in seen:
                        seen.add(key)
                        cells.append({"panel": row["panel"], "d": d, "m": m, "gamma": g})
    return cells


def digits_cells(cfg: dict[str, Any]) -> list[dict[str, int | str]]:
    """(generator, m, γ, seed) of every digits run of one dataset: γ = 0 once, under `none`."""
    dg = cfg["digits"]
    cells = []
    for m in dg["sizes"]:
        for g in dg["gammas"]:
            for gen in ([BASELINE] if g == 0 else dg["generators"]):
                for s in dg["seeds"]:
                    cells.append({"generator": gen, "m": m, "gamma": g, "seed": s})
    return cells


def digits_run_files(cfg: dict[str, Any], dataset: str = "{dataset}") -> list[str]:
    return [DIGITS_RUN.format(dataset=dataset, **c) for c in digits_cells(cfg)]


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage == "augment":
        return [{"dataset": ds} for ds in cfg["digits"]["datasets"]]
    return [{}]


def outputs(cfg: dict[str, Any], stage: str) -> list[str]:
    if stage == "simulate":
        return [SIM_RUN.format(**c) for c in sim_cells(cfg)]
    if stage == "augment":
        return digits_run_files(cfg)
    if stage == "report":
        tables = list(TABLES) + (list(DIGITS_TABLES) if cfg["digits"]["datasets"] else [])
        figures = list(FIGURES) + (list(DIGITS_FIGURES) if cfg["digits"]["datasets"] else [])
        return (["claims.json"] + [f"tables/{t}.{ext}" for t in tables for ext in ("csv", "md", "tex")]
                + [f"figures/{f}.{ext}" for f in figures for ext in ("png", "pdf")])
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "report":
        return outputs(cfg, "simulate") + [f for g in groups(cfg, "augment") for f in digits_run_files(cfg, **g)]
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: a digits setting reruns only the digits jobs, and so on."""
    if stage == "simulate":
        return {"simulation": cfg["simulation"]}
    if stage == "augment":
        return {"dataset": wildcards["dataset"], "digits": {k: v for k, v in cfg["digits"].items() if k != "datasets"}}
    if stage == "report":
        sim = {k: cfg["simulation"][k] for k in ("sigma", "repeats", "n_test")}
        return {"simulation": sim, "datasets": cfg["digits"]["datasets"]}
    raise KeyError(stage)
