"""The scaling-wisdom jobs, where they write, and the settings each depends on (light: no torch).

Work comes in *units*, each one batched ensemble (one metrics.json per run):
* `sweep/<source>/<width>`: learning-rate grid × seeds, one-pass, extended inside the job
  (`lr_extend`) until its optimum is interior and an LR is unstable, or a declared limit;
* `crossover/<width>`: constant η* vs η*·D_ref/D × seeds (η* tuned on `sweep/<src>/<D_ref>`,
  D_ref in the middle of the widths; no runs at D_ref itself, where both rules coincide);
* `batch`: batch sizes at a fixed token budget and LR (tuned on the sweep at that width);
* `reg/<source>/<regime>`: coupled L2 and decoupled weight decay, one-pass or multi-epoch
  (LR tuned on the one-pass sweep of that source at the regularisation width).
Units are packed into training jobs by the config's `jobs:` mapping, because every process
pays ~10–20 s of imports: smoke runs everything in one job, default balances two cores.
A job that needs a tuning sweep from another job takes that job's runs as inputs; inside a
job, sweeps run first. Stage `train` gets one rule per job (`STAGES`: split by `jobs`), the job as wildcard `job`.

Paper scale reads C4 (a source of kind `c4`) through two more stages:
* `download`: one checked download (URL + sha256) per entry of the config's `downloads`,
  to `downloads/<filename>`;
* `tokenize`: one job per `c4` source: its json.gz shards encoded with its SentencePiece
  model into `tokens/<source>/{train,val}.bin` (flat uint16) and `meta.json`.
A training job that uses a `c4` source takes its token files as inputs; smoke and default
have no `c4` source, so their DAG is unchanged.
"""
from __future__ import annotations

import math
from typing import Any

from paperdag.contract import Stage, report_outputs

SWEEP = "runs/sweep/{source}/d{width}/lr{lr}/seed{seed}/metrics.json"
# The LRs a sweep adds beyond its base grid (and their runs) are found while it runs: they go
# into one file per sweep, so that the DAG stays static.
EXTENSION = "runs/sweep/{source}/d{width}/extension.json"
CROSS = "runs/crossover/d{width}/{rule}/seed{seed}/metrics.json"
BATCH = "runs/batch/b{batch}/x{mult}/seed{seed}/metrics.json"  # LR = mult · η*(sweep batch)
REG = "runs/reg/{source}/{regime}/{method}/seed{seed}/metrics.json"
RULES = ("const", "scaled")
REGIMES = ("one_pass", "multi_epoch")
TABLES = ("sources", "lr_sweep", "lr_optimum", "crossover", "batch", "regularization", "gap", "throughput")
FIGURES = ("crossover", "lr_sweep", "batch", "regularization")
TOKEN_FILES = ("train.bin", "val.bin", "meta.json")


STAGES = (
    Stage("download", heavy=False, tag="{file}", constraints={"file": r"[A-Za-z0-9_.-]+"}),
    # Only the code that encodes: editing the training code does not re-tokenise C4.
    Stage("tokenize", module="c4", tag="{source}", gpu=False, constraints={"source": r"[a-z0-9_]+"}),
    Stage("train", tag="{job}", split="jobs"),  # one rule per job: each packs different units
    Stage("report", heavy=False),
)


def lr_tag(lr: float) -> str:
    return f"{lr:.3g}"


def reg_methods(cfg: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Regulariser settings by name: coupled L2 (`l2_<λ>`, λ = 0 is the baseline) and decoupled `wd_<x>`."""
    reg = cfg["reg"]
    out = {f"l2_{lr_tag(v)}": {"l2": float(v), "wd": 0.0} for v in reg["l2"]}
    out.update({f"wd_{lr_tag(v)}": {"l2": 0.0, "wd": float(v)} for v in reg["wd"]})
    return out


def batch_lrs(cfg: dict[str, Any]) -> dict[int, list[float]]:
    """Per batch size b, its LRs as multiples of η* (tuned at the sweeps' batch b₀): η*·sqrt(b/b₀)·m
    for each m of `lr_mults` (the per-batch-tuned curve's grid, centred by the square-root rule),
    plus η* itself (the fixed-LR curve), once."""
    b0, mults = cfg["train"]["batch"], cfg["batch"]["lr_mults"]
    out = {}
    for b in cfg["batch"]["batches"]:
        grid = {float(lr_tag(math.sqrt(b / b0) * m)) for m in mults} | {1.0}
        out[int(b)] = sorted(grid)
    return out


def unit_seeds(cfg: dict[str, Any], unit: str) -> list[int]:
    """The seeds of a sweep, crossover or reg unit: `unit_seeds[unit]` where config names the unit
    (fewer seeds where the standard errors allow, for the CPU budget), else `seeds`."""
    return [int(s) for s in cfg["unit_seeds"].get(unit, cfg["seeds"])]


def unit_files(cfg: dict[str, Any], unit: str) -> list[str]:
    """The run files one unit writes, in the order its stage function trains them."""
    kind, *args = unit.split("/")
    seeds = unit_seeds(cfg, unit)
    if kind == "sweep":
        source, width = args
        base = [SWEEP.format(source=source, width=width, lr=lr_tag(lr), seed=s) for lr in cfg["lr_grid"] for s in seeds]
        return base + [EXTENSION.format(source=source, width=width)]
    if kind == "crossover":
        return [CROSS.format(width=args[0], rule=r, seed=s) for r in RULES for s in seeds]
    if kind == "batch":
        return [BATCH.format(batch=b, mult=lr_tag(m), seed=s) for b, ms in batch_lrs(cfg).items() for m in ms
                for s in cfg["batch"]["seeds"]]
    if kind == "reg":
        source, regime = args
        return [REG.format(source=source, regime=regime, method=m, seed=s) for m in reg_methods(cfg) for s in seeds]
    raise KeyError(f"unknown unit '{unit}'")


def tuning_unit(cfg: dict[str, Any], unit: str) -> str | None:
    """The sweep unit whose validation optimum sets a unit's learning rate (None for sweeps)."""
    kind, *args = unit.split("/")
    if kind == "sweep":
        return None
    if kind == "crossover":
        return f"sweep/{cfg['crossover']['source']}/{cfg['crossover']['ref']}"
    if kind == "batch":
        return f"sweep/{cfg['batch']['source']}/{cfg['batch']['width']}"
    if kind == "reg":
        return f"sweep/{args[0]}/{cfg['reg']['width']}"
    raise KeyError(unit)


def token_files(source: str) -> list[str]:
    """What the `tokenize` stage writes for a `c4` source (relative to the paper's results)."""
    return [f"tokens/{source}/{f}" for f in TOKEN_FILES]


def download_file(cfg: dict[str, Any], key: str) -> str:
    """Where the download `key` of the config's `downloads` lands."""
    if key not in cfg.get("downloads", {}):
        raise KeyError(f"scaling_wisdom: '{key}' is named by a c4 source but is not in `downloads`")
    return f"downloads/{cfg['downloads'][key]['filename']}"


def c4_sources(cfg: dict[str, Any]) -> list[str]:
    return sorted(s for s, c in cfg["sources"].items() if c["kind"] == "c4")


def job_sources(cfg: dict[str, Any], units: list[str]) -> list[str]:
    """The sources a job's units read (sweeps and reg by name, crossover and batch by config)."""
    sources = {u.split("/")[1] for u in units if u.startswith(("sweep/", "reg/"))}
    if any(u.startswith("crossover/") for u in units):
        sources.add(cfg["crossover"]["source"])
    if "batch" in units:
        sources.add(cfg["batch"]["source"])
    return sorted(sources)


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage == "download":
        return [{"file": d["filename"]} for d in cfg.get("downloads", {}).values()]
    if stage == "tokenize":
        return [{"source": s} for s in c4_sources(cfg)]
    return [{}]  # train: one rule per job (STAGES), no wildcard left


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "download":
        return ["downloads/{file}"]
    if stage == "tokenize":
        return token_files("{source}")
    if stage == "report":
        return report_outputs(TABLES, FIGURES)
    if stage == "train":
        return [f for u in cfg["jobs"][wildcards["job"]] for f in unit_files(cfg, u)]
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "download":
        return []
    if stage == "tokenize":
        src = cfg["sources"][wildcards["source"]]
        return [download_file(cfg, k) for k in [src["tokenizer"], *src["train"], *src["validation"]]]
    if stage == "report":
        return [f for units in cfg["jobs"].values() for u in units for f in unit_files(cfg, u)]
    units = cfg["jobs"][wildcards["job"]]
    needed = {tuning_unit(cfg, u) for u in units} - set(units) - {None}
    tokens = [f for s in job_sources(cfg, units) if cfg["sources"][s]["kind"] == "c4" for f in token_files(s)]
    return [f for u in sorted(needed) for f in unit_files(cfg, u)] + tokens


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads, so a change reruns only the jobs it affects."""
    if stage == "download":
        name = next(k for k, d in cfg["downloads"].items() if d["filename"] == wildcards["file"])
        return {"name": name, "download": cfg["downloads"][name]}
    if stage == "tokenize":
        src = cfg["sources"][wildcards["source"]]
        return {"source": wildcards["source"],
                "tokenizer": download_file(cfg, src["tokenizer"]),
                "train": [download_file(cfg, k) for k in src["train"]],
                "validation": [download_file(cfg, k) for k in src["validation"]]}
    if stage == "report":
        return {"claims": cfg["claims"], "claims_source": cfg["claims_source"], "sources": sorted(cfg["sources"]),
                "crossover": cfg["crossover"], "batch": cfg["batch"], "reg": cfg["reg"], "lr_extend": cfg["lr_extend"],
                "train": {"batch": cfg["train"]["batch"]}}
    units = cfg["jobs"][wildcards["job"]]
    sources = job_sources(cfg, units)
    keys = ("vocab", "arch", "train", "n_eval_seqs", "eval_seed", "peak", "lr_grid", "lr_extend")
    out = {k: cfg[k] for k in keys}
    out["seeds"] = {u: unit_seeds(cfg, u) for u in units}
    out.update(job=wildcards["job"], units=units, sources={s: cfg["sources"][s] for s in sources},
               tuning={u: tuning_unit(cfg, u) for u in units},
               files={u: unit_files(cfg, u) for u in units + sorted({tuning_unit(cfg, u) for u in units} - {None})})
    if any(u.startswith("crossover/") for u in units):
        out["crossover"] = cfg["crossover"]
    if "batch" in units:
        out["batch"] = cfg["batch"]
    if any(u.startswith("reg/") for u in units):
        out["reg"] = {**cfg["reg"], "methods": reg_methods(cfg)}
    return out
