"""What the it_bounds jobs are, where they write, and which settings each depends on.

Light on purpose (no numpy/torch): the Snakefile imports it to build the DAG.
- `bounds`: one job per (architecture, d), every n inside; one metrics.json per (arch, d, n).
- `sdpi`: one job, exact-enumeration SDPI checks; one metrics.json per channel.
- `gibbs`: one job, the paper's finite-parameter Gibbs example enumerated exactly; one metrics.json
  per network (every n inside).
- `crosscheck`: one job, POT's sample-based 1-D W1 at the output against the exact quantile W1
  (off at smoke scale: importing POT alone takes seconds on a busy 2-core machine).
- `report`: tables, figures, claims.json.
"""
from __future__ import annotations

from typing import Any

from paperdag.contract import Stage, report_outputs

BOUNDS_RUN = "runs/bounds/{arch}/d{d}/n{n}/metrics.json"
SDPI_CHANNELS = ("dropout", "dropconnect", "noise", "refined")
SDPI_RUN = "runs/sdpi/{channel}/metrics.json"
GIBBS_RUN = "runs/gibbs/{network}/metrics.json"
CROSSCHECK_RUN = "runs/crosscheck/metrics.json"
TABLES = ("bounds", "tightness", "sdpi", "gibbs")
FIGURES = ("bounds_vs_n", "kl_per_layer", "tightness_heatmap", "sdpi_coefficients", "gibbs_rate")
TESTBED_KEYS = ("ns", "draws", "seed", "mu_norm", "sigma", "ramp_margin", "chunk_elements")


STAGES = (  # CPU-only at every scale (vectorised numpy)
    Stage("bounds", tag="{arch}/d{d}", gpu=False, retries=0),
    Stage("sdpi", gpu=False, threads=1, retries=0),
    Stage("gibbs", gpu=False, threads=1, retries=0),
    Stage("crosscheck", gpu=False, threads=1, retries=0),
    Stage("report", heavy=False),
)


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage == "bounds":
        return [{"arch": a, "d": str(d)} for a in cfg["architectures"] for d in cfg["dims"]]
    return [{}]


def bounds_files(cfg: dict[str, Any], arch: str = "{arch}", d: str = "{d}") -> list[str]:
    return [BOUNDS_RUN.format(arch=arch, d=d, n=n) for n in cfg["ns"]]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "bounds":
        return bounds_files(cfg)
    if stage == "sdpi":
        return [SDPI_RUN.format(channel=c) for c in SDPI_CHANNELS]
    if stage == "gibbs":
        return [GIBBS_RUN.format(network=k) for k in cfg["gibbs"]["networks"]]
    if stage == "crosscheck":
        return [CROSSCHECK_RUN]
    if stage == "report":
        tables = TABLES + (("crosscheck",) if cfg["crosscheck"]["enabled"] else ())
        return report_outputs(tables, FIGURES)
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "report":
        runs = [f for g in groups(cfg, "bounds") for f in bounds_files(cfg, **g)]
        cross = outputs(cfg, "crosscheck", {}) if cfg["crosscheck"]["enabled"] else []
        return runs + outputs(cfg, "sdpi", {}) + outputs(cfg, "gibbs", {}) + cross
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: editing one architecture reruns only its jobs."""
    if stage == "bounds":
        return {**{k: cfg[k] for k in TESTBED_KEYS}, "arch": wildcards["arch"], "d": int(wildcards["d"]),
                "architecture": cfg["architectures"][wildcards["arch"]]}
    if stage == "sdpi":
        return {"sdpi": cfg["sdpi"], "seed": cfg["seed"], "architectures": cfg["architectures"], "dims": cfg["dims"]}
    if stage == "gibbs":
        return {"gibbs": cfg["gibbs"], "seed": cfg["seed"]}
    if stage == "crosscheck":
        return {**{k: cfg[k] for k in ("seed", "mu_norm", "sigma")}, "crosscheck": cfg["crosscheck"],
                "architectures": cfg["architectures"]}
    if stage == "report":
        return {"architectures": sorted(cfg["architectures"]), "dims": cfg["dims"], "ns": cfg["ns"],
                "gibbs": cfg["gibbs"], "claims": cfg["claims"]}
    raise KeyError(stage)
