"""Job priorities for the scheduler: the longest expected chain of work from a job to its paper's end.

Snakemake starts the ready jobs of highest priority first; with every priority equal it may start a
long chain last (f_distill's digits job waits for digits_prep, scaling_wisdom's batch and control
sweeps for the small sweep), which then runs alone at the end of the run. Critical-path list
scheduling gives each job the seconds it is expected to take plus the longest expected chain of the
jobs that need its outputs, so such chains start first. Expected seconds come from the job's last
run in its `benchmark:` file (its wall seconds, or its CPU seconds where a busy machine made it
wait); a job without one (a first run, a new scale) expects 0, and a run without any history
schedules as plain Snakemake does. Priorities change only the order of jobs, never a result.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from paperdag import contract

_WILDCARD = re.compile(r"\{[^}]+\}")
CPU_SAMPLING_SECONDS = 30.0  # Snakemake samples a job's cpu_time every 30 s: the last interval is missing


def _last_row(bench_file: str | Path) -> dict[str, str] | None:
    path = Path(bench_file)
    if not path.is_file():
        return None
    with open(path) as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return rows[-1] if rows else None


def _field(row: dict[str, str] | None, key: str) -> float | None:
    try:
        return float(row[key])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None


def last_run_seconds(bench_file: str | Path) -> float | None:
    """Wall seconds (`s`) of the last run recorded in a benchmark TSV; None without one."""
    return _field(_last_row(bench_file), "s")


def expected_seconds(bench_file: str | Path) -> float:
    """What a job is expected to take with a core to itself, 0.0 without history: its last run's wall
    seconds, or, where smaller, its CPU seconds plus Snakemake's 30-s sampling interval (a run recorded
    on a busy machine waited for a core: its wall time says more about the load than about the job)."""
    row = _last_row(bench_file)
    wall, cpu = _field(row, "s"), _field(row, "cpu_time")
    if wall is None:
        return 0.0
    return wall if cpu is None else min(wall, cpu + CPU_SAMPLING_SECONDS)


def _segment_overlaps(a: str, b: str) -> bool:
    """Whether two path segments, each maybe with `{wildcards}`, can name the same segment."""
    if not _WILDCARD.search(a) and not _WILDCARD.search(b):
        return a == b
    if _WILDCARD.search(a) and _WILDCARD.search(b):
        return True  # both open: assume they can meet (only ever orders jobs, never changes a result)
    pattern, literal = (a, b) if _WILDCARD.search(a) else (b, a)
    regex = "".join(".+" if _WILDCARD.fullmatch(p) else re.escape(p) for p in re.split(r"(\{[^}]+\})", pattern))
    return re.fullmatch(regex, literal) is not None


def paths_overlap(a: str, b: str) -> bool:
    """Whether two relative path patterns (`{wildcards}` within a segment) can name the same file."""
    sa, sb = a.split("/"), b.split("/")
    return len(sa) == len(sb) and all(_segment_overlaps(x, y) for x, y in zip(sa, sb, strict=True))


def _jobs(paper: str, cfg: Mapping[str, Any]) -> list[tuple[str, contract.Stage, str]]:
    return [(contract.rule_name(paper, s, v), s, v) for s in contract.stages(paper, cfg) for v in s.split_values(cfg)]


def _patterns(paper: str, cfg: Mapping[str, Any], declared: contract.Stage, value: str, kind: str) -> list[str]:
    """A rule's input or output patterns; inputs that need wildcards to be known count as none."""
    spec = contract.paper_spec(paper)
    fixed = contract.split_wildcards(declared, value)
    try:
        return list(getattr(spec, kind)(dict(cfg), declared.name, dict(fixed)))
    except (KeyError, IndexError):
        return []


def consumers(paper: str, cfg: Mapping[str, Any]) -> dict[str, list[str]]:
    """Rule name -> the paper's rules that read any file it writes (found by matching the spec's patterns)."""
    jobs = _jobs(paper, cfg)
    outs = {name: _patterns(paper, cfg, s, v, "outputs") for name, s, v in jobs}
    ins = {name: _patterns(paper, cfg, s, v, "inputs") for name, s, v in jobs}
    return {a: [b for b in outs if b != a and any(paths_overlap(o, i) for o in outs[a] for i in ins[b])] for a in outs}


def chain_seconds(paper: str, cfg: Mapping[str, Any], longest_job: Callable[[str], float]) -> dict[str, float]:
    """Rule name -> the longest expected chain of work strictly after it: over the rules that read
    its outputs, their longest job plus their own chain. `longest_job(rule)` gives a rule's expected
    seconds (the longest of its jobs)."""
    after = consumers(paper, cfg)

    @cache
    def from_rule(rule: str, seen: frozenset[str] = frozenset()) -> float:
        nxt = [b for b in after[rule] if b not in seen]
        return max((longest_job(b) + from_rule(b, seen | {rule}) for b in nxt), default=0.0)

    return {rule: from_rule(rule) for rule in after}


def longest_benchmark(bench_dir: str | Path, tag: str) -> float:
    """The longest last-run wall seconds among a rule's benchmark files: `<bench_dir>.tsv` for a rule
    without a tag, else `<bench_dir>/<tag>.tsv` with the tag's wildcards matching any name."""
    bench_dir = Path(bench_dir)
    if not tag:
        return expected_seconds(bench_dir.with_suffix(".tsv"))
    return max((expected_seconds(p) for p in bench_dir.glob(_WILDCARD.sub("*", tag) + ".tsv")), default=0.0)


def paper_chains(paper: str, cfg: Mapping[str, Any], bench_root: str | Path) -> dict[str, float]:
    """Rule name -> expected seconds of the longest chain after it, from the benchmark files under
    `<bench_root>/<paper>/<stage>` (where the generated rules write them)."""
    longest = {
        name: longest_benchmark(Path(bench_root) / paper / s.name, contract.job_tag(s, v)) for name, s, v in _jobs(paper, cfg)
    }
    return chain_seconds(paper, cfg, longest.__getitem__)
