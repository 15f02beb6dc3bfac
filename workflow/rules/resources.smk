# Resources: every generated rule's threads and resources come from here (docs/SLURM.md).
# Heavy (training/evaluation) stages get the scale's row of RESOURCES; light stages
# (downloads, reports) are localrules and run on the submitting machine.
RESOURCES = {
    "smoke": {"threads": 1, "mem_mb": 2000, "runtime": 10, "gpu": 0},
    "default": {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "paper": {"threads": 8, "mem_mb": 32000, "runtime": 720, "gpu": 1},
}
# A retried job (stages declare `retries`) asks for more: factor per extra attempt.
RETRY_GROWTH = {"mem_mb": 1.5, "runtime": 2.0}
CLUSTER = config.get("cluster", {})
for _scale, _override in CLUSTER.get("resources", {}).items():
    RESOURCES[_scale] = {**RESOURCES[_scale], **_override}
GPUS = RESOURCES[SCALE]["gpu"]


def _grown(key, attempt):
    return int(round(RESOURCES[SCALE][key] * RETRY_GROWTH[key] ** (attempt - 1)))


def heavy_threads(wildcards):
    return RESOURCES[SCALE]["threads"]


def heavy_mem_mb(wildcards, attempt):
    return _grown("mem_mb", attempt)


def heavy_runtime(wildcards, attempt):
    """Minutes; doubles on each retry (a job killed for time gets more, and resumes)."""
    return _grown("runtime", attempt)


def _slurm_setting(key):
    env = os.environ.get(f"PAPERDAG_SLURM_{key.upper()}") or os.environ.get(
        f"SBATCH_{key.upper()}"
    )
    return CLUSTER.get(key) or env


def gpu_resources():
    """How a GPU stage asks for its GPUs: `gpu=N` (+ `gpu_model`), or `gres=gpu:[model:]N`
    where config `cluster.gpu_request` is `gres` (profiles/slurm-gres sets it)."""
    if GPUS == 0:
        return {}
    model = CLUSTER.get("gpu_model")
    if CLUSTER.get("gpu_request") == "gres":
        gres = f"gpu:{model}:{GPUS}" if model else f"gpu:{GPUS}"
        return {"gres": gres, "gpu": 0, "tasks_per_gpu": 0}
    return {"gpu": GPUS, **({"gpu_model": model} if model else {})}


def heavy_resources(declared):
    """The resources of a heavy stage's rule: memory and time (grown per retry), the cluster's
    partition and account where set, and GPUs where the stage declares them."""
    cluster = {
        f"slurm_{k}": v for k in ("partition", "account") if (v := _slurm_setting(k))
    }
    return {
        "mem_mb": heavy_mem_mb,
        "runtime": heavy_runtime,
        **cluster,
        **(gpu_resources() if declared.gpu else {}),
    }


def gpu_rules():
    """Names of the rules that declare GPUs at this scale."""
    if GPUS == 0:
        return []
    return [
        contract.rule_name(p, s, v)
        for p in PAPERS
        for s in contract.stages(p, paper_cfg(p))
        if s.heavy and s.gpu
        for v in s.split_values(paper_cfg(p))
    ]
