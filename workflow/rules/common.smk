# Shared helpers: config validation, paths, input/param functions and resources.
# Everything a rule needs from config goes through a function here.
import os
import sys
from pathlib import Path

# Use this checkout's library (also in job processes), even if another copy is installed.
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ.update(PYTHONPATH=_SRC)

from paperdag.config import ConfigError, resolve_paper, validate_config
from paperdag.registry import library_sources, paper_spec, stage_sources
from paperdag.stage import results_root

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas")
except ConfigError as err:
    sys.exit(f"paperdag: {err}")

SCALE = config["scale"]
# One software environment for every rule (the pip venv made by `make` is its default
# realisation; `--sdm conda` builds it with conda instead).
CONDA_ENV = "../../envs/paperdag.yaml"
RESULTS = results_root(SCALE)
PAPERS = list(config["papers"])


wildcard_constraints:
    seed=r"\d+",
    method=r"[A-Za-z0-9_.]+",


def paper_cfg(paper):
    """The settings of `paper` at the current scale."""
    return resolve_paper(config, paper)


def paper_dir(paper):
    return f"{RESULTS}/{paper}"


REPORT_KINDS = {"tables": "table", "figures": "figure"}


def report_caption(paper):
    """Caption of a paper's tables and figures in the report: its own .rst if it has one."""
    own = Path(workflow.basedir) / "workflow" / "report" / f"{paper}.rst"
    return f"../report/{paper}.rst" if own.exists() else "../report/result.rst"


def stage_outputs(paper, stage):
    """Output patterns of a stage (wildcards left in), as the paper's spec declares them.

    Tables (`tables/*`) and figures (`figures/*`) are marked for `snakemake --report`:
    category = paper id, subcategory = Tables/Figures, labels paper, file and kind.
    """
    spec = paper_spec(paper)
    outputs = []
    for rel in spec.outputs(paper_cfg(paper), stage):
        path = f"{paper_dir(paper)}/{rel}"
        kind = REPORT_KINDS.get(rel.split("/", 1)[0])
        if kind is not None:
            name = rel.split("/", 1)[1]
            path = report(path, caption=report_caption(paper), category=paper, subcategory=f"{kind.title()}s",
                          labels={"paper": paper, "file": name, "kind": kind})
        outputs.append(path)
    return outputs


def published(paper):
    """A paper's claims.json, Markdown tables (spec order: the first is the headline) and PNG figures."""
    outs = paper_spec(paper).outputs(paper_cfg(paper), "report")
    return {
        "paper": paper,
        "claims": f"{paper_dir(paper)}/claims.json",
        "tables": [f"{paper_dir(paper)}/{o}" for o in outs if o.startswith("tables/") and o.endswith(".md")],
        "figures": [f"{paper_dir(paper)}/{o}" for o in outs if o.startswith("figures/") and o.endswith(".png")],
    }


def published_files(wildcards):
    """Every file the results front page is built from."""
    return [f for p in map(published, PAPERS) for f in [p["claims"], *p["tables"], *p["figures"]]]


def stage_params(paper, stage):
    """Param function: only the settings this job depends on (so only it reruns when they change)."""

    def params(wildcards):
        return paper_spec(paper).job_config(paper_cfg(paper), stage, dict(wildcards))

    return params


def stage_inputs(paper, stage):
    """Input function: the stage's data inputs plus every library file it imports."""

    def inputs(wildcards):
        spec = paper_spec(paper)
        data = [f"{paper_dir(paper)}/{p}" for p in spec.inputs(paper_cfg(paper), stage, dict(wildcards))]
        code = stage_sources(paper, stage)  # what this stage's function can import (paperdag.registry)
        return {"data": data, "code": [os.path.relpath(p, workflow.basedir) for p in code]}

    return inputs


def _tagged(kind, paper, stage, tag, ext):
    tag = tag.strip(os.sep)
    return os.path.join(RESULTS, kind, paper, stage, *([tag] if tag else [])) + ext


def log_file(paper, stage, tag=""):
    """Log path of a job; `tag` holds the rule's wildcards, e.g. "{benchmark}-{method}"."""
    return _tagged("logs", paper, stage, tag, ".log")


def benchmark_file(paper, stage, tag=""):
    return _tagged("benchmarks", paper, stage, tag, ".tsv")


def all_claims():
    return [f"{paper_dir(p)}/claims.json" for p in PAPERS]


# ---------------------------------------------------------------------------------------
# RESOURCES: every rule's threads/resources come from here (docs/SLURM.md).
# Heavy (training/evaluation) rules use the heavy_* functions; light rules (downloads,
# tables, figures, claims) are `localrules` and run on the submitting machine.
RESOURCES = {
    "smoke": {"threads": 1, "mem_mb": 2000, "runtime": 10, "gpu": 0},
    "default": {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "paper": {"threads": 8, "mem_mb": 32000, "runtime": 720, "gpu": 1},
}
# A retried job (rules declare `retries:`) asks for more: factor per extra attempt.
RETRY_GROWTH = {"mem_mb": 1.5, "runtime": 2.0}
CLUSTER = config.get("cluster", {})
for _scale, _override in CLUSTER.get("resources", {}).items():
    RESOURCES[_scale] = {**RESOURCES[_scale], **_override}


def _grown(key, attempt):
    return int(round(RESOURCES[SCALE][key] * RETRY_GROWTH[key] ** (attempt - 1)))


def heavy_threads(wildcards):
    return RESOURCES[SCALE]["threads"]


def heavy_mem_mb(wildcards, attempt):
    return _grown("mem_mb", attempt)


def heavy_runtime(wildcards, attempt):
    """Minutes; doubles on each retry (a job killed for time gets more, and resumes)."""
    return _grown("runtime", attempt)


def heavy_gpus(wildcards):
    return RESOURCES[SCALE]["gpu"]


def heavy_gpu_model(wildcards):
    return CLUSTER["gpu_model"]


def heavy_gres(wildcards):
    """`--gres` form of the GPU request, for clusters that refuse `--gpus`."""
    model = CLUSTER.get("gpu_model")
    return f"gpu:{model}:{heavy_gpus(wildcards)}" if model else f"gpu:{heavy_gpus(wildcards)}"


def gpu_rules():
    """Names of the rules that declare GPUs at this scale."""
    return [r.name for r in workflow.rules if r.resources.get("gpu") == heavy_gpus and heavy_gpus(None) > 0]


def _slurm_setting(key):
    env = os.environ.get(f"PAPERDAG_SLURM_{key.upper()}") or os.environ.get(f"SBATCH_{key.upper()}")
    return CLUSTER.get(key) or env


def _gpu_request():
    """`gres` or `gpus`: config `cluster.gpu_request`, else the profile's `gpu_request` default resource."""
    defaults = workflow.resource_settings.default_resources
    from_profile = defaults.get("gpu_request") if defaults is not None else None
    return CLUSTER.get("gpu_request") or getattr(from_profile, "raw", from_profile) or "gpus"


def _prepare_submission():
    """Before any job runs: refuse GPU rules without GPUs; on SLURM, add cluster resources.

    Runs as the `onstart` hook (rules are all known then, and SLURM-side jobs skip hooks).
    """
    from snakemake.exceptions import WorkflowError

    from paperdag import gpu

    on_slurm = not workflow.local_exec and workflow.executor_plugin.name.startswith("slurm")
    parts = gpu.slurm_partitions() if on_slurm else None
    try:
        if on_slurm:
            gpu.check_cluster_config(CLUSTER, parts)
    except ValueError as err:
        raise WorkflowError(f"paperdag: {err}")
    if on_slurm:
        partition = gpu.target_partition(CLUSTER, parts)
        available = None if parts is None or partition not in parts else parts[partition].gpus
    else:
        available = len(gpu.visible_devices())
    refusal = gpu.gpu_shortfall(gpu_rules(), scale=SCALE, allow_cpu=bool(config.get("allow_cpu")), available=available)
    if refusal:
        raise WorkflowError(f"paperdag: {refusal}")
    if not on_slurm:
        return
    extra = {"slurm_partition": _slurm_setting("partition"), "slurm_account": _slurm_setting("account")}
    needs_gpu = set(gpu_rules())
    for r in workflow.rules:
        for key, value in extra.items():
            if value and r.resources.get(key).raw is None:
                r.resources[key] = value
        if r.name not in needs_gpu:
            continue
        if _gpu_request() == "gres":
            r.resources["gres"] = heavy_gres
            r.resources["gpu"] = 0
            r.resources["tasks_per_gpu"] = 0
        elif CLUSTER.get("gpu_model"):
            r.resources["gpu_model"] = heavy_gpu_model


# Snakemake keeps only the last `onstart:` block; guards.smk has one too. Collect them all
# and run them in include order (this one first: nothing may be submitted before it).
_ONSTART_HOOKS = []
_register_onstart = workflow.onstart


def _run_onstart_hooks(log):
    for hook in _ONSTART_HOOKS:
        hook(log)


def _collect_onstart(func):
    _ONSTART_HOOKS.append(func)
    return _register_onstart(_run_onstart_hooks)


workflow.onstart = _collect_onstart


onstart:
    _prepare_submission()
