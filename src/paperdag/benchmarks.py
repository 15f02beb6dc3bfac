"""Per-paper sums of the `benchmark:` files the heavy rules write, against the CPU budgets in config.

Snakemake writes one TSV per heavy job (wall seconds `s`, `cpu_time`, …; the last row is the
latest run). Its `cpu_time` is sampled (every 30 s after the first 15), so a job's own log line
"done … (N s CPU in this process …)" is preferred where present. Summed per paper, job CPU time
is the figure comparable across machines and loads;
the budgets come from config.yaml's `benchmark_budgets` (set by the project's issues), so the
verdict "within budget" is generated with the numbers, never typed.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_START_UP = re.compile(r" start .*; ([0-9.]+) s of start-up")
_LIGHTNING = re.compile(r"imported Lightning in ([0-9.]+) s")
_DONE_CPU = re.compile(r" done .* \(([0-9.]+) s CPU in this process")


@dataclass
class PaperTime:
    jobs: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    longest: float = 0.0
    imports: float = 0.0  # start-up and Lightning import seconds, over the jobs whose log says
    wall_logged: float = 0.0  # wall seconds of those jobs
    cpu_exact: int = 0  # jobs whose CPU time came from their own log (exact), not the benchmark's sample


def last_run(log_path: Path) -> tuple[str, re.Match | None]:
    """A job log's text and the start line of its last run (a log holds every run of its job)."""
    if not log_path.is_file():
        return "", None
    text = log_path.read_text(errors="replace")
    starts = list(_START_UP.finditer(text))
    return text, starts[-1] if starts else None


def import_seconds(log_path: Path) -> float | None:
    """A job's start-up (interpreter and imports before the stage ran) plus its Lightning import,
    read from the last run in its log; None when the log does not say."""
    text, last = last_run(log_path)
    if last is None:
        return None
    return float(last.group(1)) + sum(float(m) for m in _LIGHTNING.findall(text, last.end()))


def logged_cpu_seconds(log_path: Path) -> float | None:
    """The CPU seconds a job's last finished run logged (`paperdag.stage.run_job`); None when its log
    has no such line after its last start (an older log, or a run that failed)."""
    text, last = last_run(log_path)
    done = list(_DONE_CPU.finditer(text, last.end() if last else 0))
    return float(done[-1].group(1)) if done else None


def paper_times(bench_root: str | Path, log_root: str | Path | None = None) -> dict[str, PaperTime]:
    """Sum the latest row of every `<bench_root>/<paper>/**/*.tsv`, per paper, with the import time
    from each job's log (`<log_root>/<same path>.log`; default: `logs` beside `bench_root`)."""
    bench_root = Path(bench_root)
    log_root = Path(log_root) if log_root is not None else bench_root.parent / "logs"
    times: dict[str, PaperTime] = {}
    for path in sorted(bench_root.glob("*/**/*.tsv")):
        with open(path) as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if not rows:
            continue
        last = rows[-1]
        entry = times.setdefault(path.relative_to(bench_root).parts[0], PaperTime())
        entry.jobs += 1
        entry.wall += float(last["s"])
        log_path = (log_root / path.relative_to(bench_root)).with_suffix(".log")
        exact = logged_cpu_seconds(log_path)
        entry.cpu += exact if exact is not None else float(last["cpu_time"])
        entry.cpu_exact += exact is not None
        entry.longest = max(entry.longest, float(last["s"]))
        imports = import_seconds(log_path)
        if imports is not None:
            entry.imports += imports
            entry.wall_logged += float(last["s"])
    return times


def summary_markdown(bench_root: str | Path, budgets: dict[str, Any], cores: int = 2) -> str:
    """The summary table: per paper jobs, wall and CPU sums, longest job, CPU budget and verdict;
    then the whole run's CPU time over `cores` against the wall-clock goal. The import share is
    the jobs' start-up and Lightning import seconds over their wall time ("n/a": no log says)."""
    times = paper_times(bench_root)
    cpu_budgets = budgets.get("cpu_seconds", {})
    lines = ["| paper | heavy jobs | sum of job wall time (s) | sum of job CPU time (s) | longest job (s) "
             "| import share | CPU budget (s) | within budget |", "|---|---|---|---|---|---|---|---|"]
    for paper, t in sorted(times.items()):
        budget = cpu_budgets.get(paper)
        verdict = "" if budget is None else ("yes" if t.cpu <= budget else f"**no** (+{t.cpu - budget:.0f} s)")
        share = f"{t.imports / t.wall_logged:.0%}" if t.wall_logged else "n/a"
        lines.append(f"| {paper} | {t.jobs} | {t.wall:.0f} | {t.cpu:.0f} | {t.longest:.0f} | {share} | "
                     f"{'' if budget is None else budget} | {verdict} |")
    jobs, wall, cpu, imports, logged = (sum(getattr(t, k) for t in times.values())
                                        for k in ("jobs", "wall", "cpu", "imports", "wall_logged"))
    share = f"{imports / logged:.0%}" if logged else "n/a"
    lines.append(f"| **all** | {jobs} | {wall:.0f} | {cpu:.0f} | | {share} | | |")
    text = "\n".join(lines) + "\n"
    exact = sum(t.cpu_exact for t in times.values())
    text += (f"\nCPU time: from each job's own log (getrusage at its end, exact) for {exact} of {jobs} jobs; "
             "otherwise the benchmark file's `cpu_time`, which Snakemake samples every 30 s and so misses up to "
             "30 s at the end of each job.\n")
    goal = budgets.get("total_wall_minutes")
    if goal is not None:
        best = cpu / cores / 60
        verdict = "within" if best <= goal else "**over**"
        text += (f"\nThe whole run: {cpu:.0f} job CPU-s, at best {best:.1f} min on {cores} cores with both always busy, "
                 f"{verdict} the {goal}-minute goal.\n")
    return text


def write_summary(out: str | Path, bench_root: str | Path, budgets: dict[str, Any], command: str) -> None:
    """Write the summary page (Markdown) that `command` regenerates."""
    from paperdag.io import atomic_path

    body = summary_markdown(bench_root, budgets)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(f"# Benchmark summary\n\nGenerated by `{command}` from the `benchmark:` files the rules "
                             f"write; budgets from `benchmark_budgets` in config.yaml.\n\n{body}")
