# Guards around a run, both in the main Snakemake process only (see docs/FAULTS.md).
# - onstart: after the DAG is built and before the first job (never in a dry run, so
#   `snakemake -n --config scale=paper` still plans on a laptop), refuse a config whose
#   largest job needs more memory than this machine has. Cheap: no torch import.
# - onerror: after a run with failed jobs (e.g. a diverged training run under --keep-going),
#   write the scorecard anyway, every claim of a paper whose report could not run marked
#   `not evaluated`, never passed.
from paperdag.claims import write_scorecard
from paperdag.resources import MemoryRefusal, available_mb, check_memory, estimate_mb


def memory_estimates():
    """Per enabled paper: (peak MB of its largest job at this scale, where the number comes from)."""
    return {p: estimate_mb(paper_spec(p), paper_cfg(p), RESOURCES[SCALE]["mem_mb"]) for p in PAPERS}


def _job_name(job):
    wildcards = ",".join(f"{k}={v}" for k, v in job.wildcards.items())
    return f"{job.rule.name}[{wildcards}]" if wildcards else job.rule.name


def blocked_reports(unfinished):
    """Papers whose claims.json was due but not made, with the unfinished jobs of each."""
    pending = {str(f) for job in unfinished for f in job.output}
    blocked = {}
    for paper in PAPERS:
        if f"{paper_dir(paper)}/claims.json" in pending:
            names = sorted(_job_name(j) for j in unfinished if j.rule.name.startswith(paper))
            shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            blocked[paper] = f"report not run; unfinished jobs: {shown}"
    return blocked


onstart:
    if workflow.local_exec and not workflow.touch:
        try:
            check_memory(memory_estimates(), available_mb(), SCALE)
        except MemoryRefusal as err:
            sys.exit(f"paperdag: {err}")


def write_partial_scorecard():
    """After failed jobs: the scorecard, if it was due, with the blocked papers not evaluated."""
    unfinished = list(workflow.dag.needrun_jobs(exclude_finished=True))
    scorecard = f"{RESULTS}/CLAIMS.md"
    if scorecard in {str(f) for job in unfinished for f in job.output}:
        blocked = blocked_reports(unfinished)
        write_scorecard(Path(scorecard), [Path(p) for p in all_claims()], blocked)
        print(f"paperdag: wrote a partial {scorecard}; not evaluated: {', '.join(sorted(blocked))}", file=sys.stderr)


onerror:
    try:
        write_partial_scorecard()
    except Exception as err:  # never hide the jobs' own errors behind this one
        print(f"paperdag: could not write a partial scorecard: {err!r}", file=sys.stderr)
