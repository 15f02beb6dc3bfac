"""What the f-distill jobs are, where they write, and which settings each depends on.

Light on purpose (no torch): the Snakefile imports it to build the DAG.
- `toy`: one job per student start (`init`), every divergence × seed batched in one model, and per seed the
  teacher's Heun samples and a direct Sinkhorn fit of the students' generator (`reference`) in every run;
- `toy_ablation`: the paper's ablation of its two normalisations, one divergence, normal start, one job;
- `digits_prep`: the digits teacher, the digits classifier (for FD-digits) and the real data's
  feature statistics (Inception and classifier), the
  real-vs-real floors and the teacher's multi-step reference metrics, computed once;
- `digits`: one job, every divergence × seed batched;
- `download` (paper scale only): one checked download per configured file;
- `report`: tables, figures, claims.json.
One metrics.json per (task, init, divergence, seed).
"""

from __future__ import annotations

from typing import Any

from paperdag.contract import Stage, report_outputs

RUN = "runs/{task}/{init}/{div}/seed{seed}/metrics.json"
TABLES = ["metrics_final", "paired_vs_rkl", "trajectories", "floors", "ablation"]
FIGURES = ["toy_samples", "trajectories", "metric_bars", "digits_samples", "ablation"]


STAGES = (
    Stage("toy", tag="{init}", constraints={"init": r"[a-z]+"}),
    Stage("toy_ablation", requires="ablation"),
    Stage("digits_prep", module="digits"),
    Stage("digits", module="digits"),
    Stage("download", heavy=False, tag="{name}", retries=2),
    Stage("report", heavy=False),
)


def tasks(cfg: dict[str, Any]) -> list[str]:
    return list(cfg["tasks"])


def groups(cfg: dict[str, Any], stage: str) -> list[dict[str, str]]:
    if stage == "toy":
        return [{"init": i} for i in cfg["toy"]["inits"]]
    if stage == "download":
        return [{"name": n} for n in sorted(cfg.get("downloads", {}))]
    return [{}]


def run_files(cfg: dict[str, Any], task: str, init: str = "{init}") -> list[str]:
    divs = cfg[task]["divergences"]
    return [RUN.format(task=task, init=init, div=d, seed=s) for d in divs for s in cfg["seeds"]]


def ablation_files(cfg: dict[str, Any]) -> list[str]:
    """The ablation's runs (`<divergence>_<variant>`, variant-major) and its samples; none without `ablation`."""
    ab = cfg.get("ablation")
    if not ab or "toy" not in tasks(cfg):
        return []
    labels = [f"{ab['divergence']}_{v}" for v in ab["variants"]]
    runs = [RUN.format(task="toy_ablation", init="normal", div=d, seed=s) for d in labels for s in cfg["seeds"]]
    return runs + ["samples/toy_ablation.npz"]


def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "toy":
        return run_files(cfg, "toy") + ["samples/toy_{init}.npz"]
    if stage == "toy_ablation":
        return ablation_files(cfg)
    if stage == "digits_prep":
        return ["digits/models.pt", "digits/real_stats.npz"]
    if stage == "digits":
        return run_files(cfg, "digits", "normal") + ["samples/digits_normal.npz"]
    if stage == "download":
        return ["downloads/{name}"]
    if stage == "report":
        figures = [f for f in FIGURES if f != "digits_samples" or "digits" in tasks(cfg)]
        figures = [f for f in figures if f != "ablation" or ablation_files(cfg)]
        return report_outputs(TABLES, figures)
    raise KeyError(stage)


def _all_runs(cfg: dict[str, Any]) -> list[str]:
    files: list[str] = []
    if "toy" in tasks(cfg):
        for g in groups(cfg, "toy"):
            files += run_files(cfg, "toy", g["init"]) + [f"samples/toy_{g['init']}.npz"]
    files += ablation_files(cfg)
    if "digits" in tasks(cfg):
        files += run_files(cfg, "digits", "normal") + ["samples/digits_normal.npz"]
    return files


def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
    if stage == "digits":
        return ["digits/models.pt", "digits/real_stats.npz"]
    if stage == "report":
        return _all_runs(cfg)
    return []


def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
    """Only what the job reads: a digits setting does not rerun the toy jobs, and vice versa."""
    if stage == "toy":
        return {"seeds": cfg["seeds"], "distill": cfg["distill"], "toy": cfg["toy"], "init": wildcards["init"]}
    if stage == "toy_ablation":
        return {"seeds": cfg["seeds"], "distill": cfg["distill"], "toy": cfg["toy"], "ablation": cfg["ablation"]}
    if stage == "digits_prep":
        d = cfg["digits"]
        keys = (
            "sigma_data",
            "sigma_min",
            "sigma_max",
            "teacher",
            "teacher_sampler_steps",
            "classifier",
            "n_eval",
            "n_kid",
            "kid_floor_pairs",
            "knn_k",
            "inception_weights",
        )
        return {"digits": {k: d[k] for k in keys}}
    if stage == "digits":
        return {"seeds": cfg["seeds"], "distill": cfg["distill"], "digits": cfg["digits"]}
    if stage == "download":
        return {"download": cfg["downloads"][wildcards["name"]]}
    if stage == "report":
        return {
            "tasks": tasks(cfg),
            "seeds": cfg["seeds"],
            "claims": cfg["claims"],
            "toy": {k: cfg["toy"][k] for k in ("divergences", "inits", "n_modes", "radius", "std", "control_kept_modes")},
            "digits_divergences": cfg["digits"]["divergences"],
            "ablation": cfg.get("ablation") or {},
            "expected": cfg.get("expected", {}),
        }
    raise KeyError(stage)
