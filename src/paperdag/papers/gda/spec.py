"""What the GDA jobs are, where they write, and which settings each depends on.

Light on purpose (no torch, no pandas): the Snakefile imports it to build the DAG.

* `simulate` (one job, numpy only): every cell (panel, d, m, γ) of the bGMM panels; one
  metrics.json per cell, holding the per-repeat gaps.
* `augment` (one job per digits dataset): generators fitted on m real digits (plus the `real` and
  `copy` controls), then classifiers trained for fixed epochs, one batch per (m, γ); one
  metrics.json per (generator, m, γ, seed). γ = 0 is the generator-free baseline, under `none`.
* `download` (paper scale only): the CIFAR-10 tarball (URL + sha256 in config), unpacked, and a manifest.
* `cdcgan` (paper scale, one job per seed): the conditional DCGAN fitted on the real CIFAR-10 images.
* `augment_cifar` (paper scale, one job per run): ResNet-18 on real + m_G generated images;
  one metrics.json per (augmentation, generator, m_G, seed); m_G = 0 is written under `none`.
* `report`: tables, figures, claims.json.

The CIFAR stages exist only when the resolved section has a `cifar` block (paper scale).
"""
from __future__ import annotations

from typing import Any

from paperdag.contract import Stage, report_outputs

SIM_RUN = "runs/sim/{panel}/d{d}_m{m}/gamma{gamma}/metrics.json"
DIGITS_RUN = "runs/digits/{dataset}/{generator}/m{m}_g{gamma}/seed{seed}/metrics.json"
CIFAR_RUN = "runs/cifar/{aug}/{generator}/n{ngen}/seed{seed}/metrics.json"
CIFAR_ARCHIVE = "downloads/cifar-10-binary.tar.gz"
CIFAR_MANIFEST = "downloads/cifar10/manifest.json"
CIFAR_GENERATOR = "cifar/{generator}/seed{seed}/generator.pt"
BASELINE = "none"

TABLES = ("bgmm_gaps", "bgmm_slopes", "bgmm_theory")
FIGURES = ("figure1",)
DIGITS_TABLES = ("digits_summary",)
DIGITS_FIGURES = ("digits", "digits_curves")


STAGES = (
    Stage("simulate", gpu=False, threads=1),  # numpy only, at every scale
    Stage("augment", tag="{dataset}"),
    # Paper scale only (the `cifar` block exists in config at scale paper): CIFAR-10, cDCGAN, ResNet-18.
    Stage("download", module="cifar_stages", heavy=False, requires="cifar"),
    Stage("cdcgan", module="cifar_stages", tag="{generator}/seed{seed}", requires="cifar",
          constraints={"generator": "cdcgan", "seed": r"\d+"}),
    Stage("augment_cifar", module="cifar_stages", tag="{aug}/{generator}/n{ngen}/seed{seed}", requires="cifar",
          constraints={"aug": "none|base", "ngen": r"\d+", "seed": r"\d+"}),
    Stage("report", heavy=False),
)


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


def _augmentation_grid(amounts, generators, seeds) -> list[tuple[Any, str, Any]]:
    """(amount, generator, seed): amount 0 (real data only) once, under `none`; every generator otherwise."""
    return [(a, gen, s) for a in amounts for gen in ([BASELINE] if a == 0 else generators) for s in seeds]


def digits_cells(cfg: dict[str, Any]) -> list[dict[str, int | str]]:
    """(generator, m, γ, seed) of every digits run of one dataset."""
    dg = cfg["digits"]
    return [{"generator": gen, "m": m, "gamma": g, "seed": s}
            for m in dg["sizes"] for g, gen, s in _augmentation_grid(dg["gammas"], dg["generators"], dg["seeds"])]


def digits_run_files(cfg: dict[str, Any], dataset: str = "{dataset}") -> list[str]:
    return [DIGITS_RUN.format(dataset=dataset, **c) for c in digits_cells(cfg)]


def cifar_cells(cfg: dict[str, Any]) -> list[dict[str, int | str]]:
    """(augmentation, generator, m_G, seed) of every CIFAR-10 run."""
    cc = cfg.get("cifar")
    if not cc:
        return []
    return [{"aug": aug, "generator": gen, "ngen": n, "seed": s}
            for aug in cc["augmentations"] for n, gen, s in _augmentation_grid(cc["n_generated"], cc["generators"], cc["seeds"])]


def cifar_run_files(cfg: dict[str, Any]) -> list[str]:
    return [CIFAR_RUN.format(**c) for c in cifar_cells(cfg)]


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage == "augment":
        return [{"dataset": ds} for ds in cfg["digits"]["datasets"]]
    if stage == "download":
        return [{}] if cfg.get("cifar") else []
    if stage == "cdcgan":
        return [{"generator": "cdcgan", "seed": str(s)} for s in cfg["cifar"]["seeds"]] if cfg.get("cifar") else []
    if stage == "augment_cifar":
        return [{k: str(v) for k, v in c.items()} for c in cifar_cells(cfg)]
    return [{}]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "simulate":
        return [SIM_RUN.format(**c) for c in sim_cells(cfg)]
    if stage == "augment":
        return digits_run_files(cfg)
    if stage == "download":
        return [CIFAR_ARCHIVE, CIFAR_MANIFEST]
    if stage == "cdcgan":
        return [CIFAR_GENERATOR]
    if stage == "augment_cifar":
        return [CIFAR_RUN]
    if stage == "report":
        tables = list(TABLES) + (list(DIGITS_TABLES) if cfg["digits"]["datasets"] else [])
        figures = list(FIGURES) + (list(DIGITS_FIGURES) if cfg["digits"]["datasets"] else [])
        return report_outputs(tables, figures)
    raise KeyError(stage)


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "report":
        return (outputs(cfg, "simulate", {}) + [f for g in groups(cfg, "augment") for f in digits_run_files(cfg, **g)]
                + cifar_run_files(cfg))
    if stage == "cdcgan":
        return [CIFAR_MANIFEST]
    if stage == "augment_cifar":
        gen = wildcards["generator"]
        return [CIFAR_MANIFEST] + ([] if gen == BASELINE else [CIFAR_GENERATOR.format(generator=gen, seed=wildcards["seed"])])
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: a digits setting reruns only the digits jobs, and so on."""
    if stage == "simulate":
        return {"simulation": cfg["simulation"]}
    if stage == "augment":
        return {"dataset": wildcards["dataset"], "digits": {k: v for k, v in cfg["digits"].items() if k != "datasets"}}
    if stage == "download":
        return {"download": cfg["cifar"]["download"]}
    if stage == "cdcgan":
        cc = cfg["cifar"]
        return {"cifar": {"m": cc["m"], "cdcgan": cc["cdcgan"]}}
    if stage == "augment_cifar":
        cc = cfg["cifar"]
        settings = {"m": cc["m"], "classifier": cc["classifier"], "eval_batch": cc["eval_batch"]}
        if wildcards["generator"] != BASELINE:  # the generated images depend on how the generator was trained and sampled
            settings[wildcards["generator"]] = cc[wildcards["generator"]]
            settings["sample"] = cc["sample"]
        return {"cifar": settings}
    if stage == "report":
        sim = {k: cfg["simulation"][k] for k in ("sigma", "repeats", "n_test")}
        return {"simulation": sim, "datasets": cfg["digits"]["datasets"], "claims": cfg["claims"]}
    raise KeyError(stage)
