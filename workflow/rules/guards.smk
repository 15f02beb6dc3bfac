# Guards around a run, both in the main Snakemake process only (see docs/FAULTS.md).
# - onstart: after the DAG is built and before the first job (never in a dry run, so
#   `snakemake -n --config scale=paper` still plans on a laptop): refuse GPU rules without
#   GPUs, check the SLURM settings against `sinfo`, and refuse a config whose largest job
#   needs more memory than this machine has (locally). Cheap: no torch import.
# - onerror: after a run with failed jobs (e.g. a diverged training run under --keep-going),
#   write the scorecard anyway, every claim of a paper whose report could not run marked
#   `not evaluated`, never passed.
from paperdag import gpu
from paperdag.claims import blocked_papers
from paperdag.scorecard import write_scorecard
from paperdag.resources import MemoryRefusal, available_mb, check_memory, estimate_mb

ON_SLURM = CLUSTER.get("executor") == "slurm"  # set by profiles/slurm*/cluster.yaml


def memory_estimates():
    """Per enabled paper: (peak MB of its largest job at this scale, where the number comes from)."""
    return {
        p: estimate_mb(contract.paper_spec(p), paper_cfg(p), RESOURCES[SCALE]["mem_mb"])
        for p in PAPERS
    }


def preflight():
    """Every check that must pass before the first job; one error that names the problem."""
    if ON_SLURM:
        parts = gpu.slurm_partitions()
        gpu.check_cluster_config(CLUSTER, parts)
        partition = gpu.target_partition(CLUSTER, parts)
        available = (
            None if parts is None or partition not in parts else parts[partition].gpus
        )
    else:
        available = len(gpu.visible_devices())
    refusal = gpu.gpu_shortfall(
        gpu_rules(),
        scale=SCALE,
        allow_cpu=bool(config.get("allow_cpu")),
        available=available,
    )
    if refusal:
        raise ValueError(refusal)
    if not ON_SLURM:
        check_memory(memory_estimates(), available_mb(), SCALE)


def expected_report_inputs(paper):
    """What a paper's report reads, as paths: used to say why a report could not run."""
    cfg = paper_cfg(paper)
    rel = contract.paper_spec(paper).inputs(cfg, contract.REPORT_STAGE, {})
    return [f"{paper_dir(paper)}/{p}" for p in rel]


onstart:
    try:
        preflight()
    except (ValueError, MemoryRefusal) as err:
        sys.exit(f"paperdag: {err}")


onerror:
    try:  # never hide the jobs' own errors behind this one
        blocked = blocked_papers(
            {
                p: (f"{paper_dir(p)}/claims.json", expected_report_inputs(p))
                for p in PAPERS
            }
        )
        if blocked:
            write_scorecard(
                Path(f"{RESULTS}/CLAIMS.md"),
                [Path(p) for p in all_claims()],
                blocked,
            )
            print(
                f"paperdag: wrote a partial {RESULTS}/CLAIMS.md; not evaluated: {', '.join(sorted(blocked))}",
                file=sys.stderr,
            )
    except Exception as err:
        print(
            f"paperdag: could not write a partial scorecard: {err!r}",
            file=sys.stderr,
        )
