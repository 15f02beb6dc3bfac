"""What `paperdag` needs from Snakemake: the project root, its command lines, and its dry run
read back as jobs (rule, wildcards, reason, benchmark file) with a time estimate from history.

Only Snakemake's documented command line is used (`-n` prints each job's rule, wildcards,
benchmark file and reason); nothing imports Snakemake.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paperdag import schedule
from paperdag.stage import PROJECT_ROOT, results_root

NOTHING_TO_DO = "Nothing to be done"
CROSS_PAPER = "(all papers)"  # scorecard, results front page, the `all` target


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (the working directory) with a Snakefile and a
    config.yaml; else the checkout this package was imported from."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "Snakefile").is_file() and (folder / "config.yaml").is_file():
            return folder
    return PROJECT_ROOT


def tool_env() -> dict[str, str]:
    """The environment `make` gives its commands: this interpreter's bin first (snakemake, dvc),
    fixed hash seed, DVC telemetry off."""
    bindir = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
        "PYTHONHASHSEED": "0",
        "DVC_NO_ANALYTICS": "1",
    }


def snakemake_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "snakemake", *args]


def run_snakemake(root: Path, args: Sequence[str], capture: bool = False) -> subprocess.CompletedProcess:
    """Run Snakemake in `root` (its output streams to the terminal unless `capture`)."""
    return subprocess.run(snakemake_command(args), cwd=root, env=tool_env(), capture_output=capture, text=True)


def paper_targets(scale: str, papers: Sequence[str]) -> list[str]:
    """Each paper's final output: its claims.json (its report job writes it with its tables and
    figures). Targeting these, not `papers=[…]`, leaves the other papers' scorecard rows alone."""
    return [f"{results_root(scale)}/{p}/claims.json" for p in papers]


def dag_args(scale: str, targets: Sequence[str] = (), forcerun: Sequence[str] = (), extra: Sequence[str] = ()) -> list[str]:
    """Snakemake arguments. Targets first and `--config` last: `--forcerun` and `--config` take
    any number of values, so nothing positional may follow them."""
    args = [*targets, *extra]
    if forcerun:
        args += ["--forcerun", *forcerun]
    return [*args, "--config", f"scale={scale}"]


@dataclass
class PlannedJob:
    """One job of a dry run, as Snakemake printed it."""

    rule: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.fields.get("reason", "")

    @property
    def wildcards(self) -> str:
        return self.fields.get("wildcards", "")

    @property
    def benchmark(self) -> str | None:
        return self.fields.get("benchmark")


_JOB_START = re.compile(r"^\s*(?:local)?(?:rule|checkpoint) (\S+):\s*$")
_FIELD = re.compile(r"^\s{2,}([a-z][a-z ]*): (.*)$")


def parse_dry_run(text: str) -> list[PlannedJob]:
    """The jobs of `snakemake -n` output: each block `rule NAME:` followed by indented `key: value`."""
    jobs: list[PlannedJob] = []
    current: PlannedJob | None = None
    for line in text.splitlines():
        start = _JOB_START.match(line)
        if start:
            current = PlannedJob(start.group(1))
            jobs.append(current)
            continue
        found = _FIELD.match(line) if current is not None else None
        if found:
            current.fields[found.group(1)] = found.group(2).strip()
        elif current is not None and not line.strip():
            current = None
    return jobs


def short_reason(reason: str, full: bool = False) -> str:
    """Snakemake's reason with its file lists counted: 'Missing output files: a, b' → 'Missing
    output files (2)'."""
    if full:
        return reason
    parts = []
    for clause in reason.split("; "):
        label, sep, items = clause.partition(": ")
        n = len([i for i in items.split(", ") if i.strip()]) if sep else 0
        parts.append(f"{label} ({n})" if n > 1 else (f"{label}: {items}" if sep else label))
    return "; ".join(parts)


def reason_labels(reason: str) -> list[str]:
    """The kinds of reason without their files: ['Missing output files', 'Updated input files']."""
    return [clause.partition(": ")[0].strip() for clause in reason.split("; ") if clause.strip()]


def paper_of(rule: str, papers: Sequence[str]) -> str:
    """The paper whose rule this is (`<paper>_<stage>…`), else CROSS_PAPER."""
    for paper in sorted(papers, key=len, reverse=True):
        if rule.startswith(paper + "_"):
            return paper
    return CROSS_PAPER


def benchmark_seconds(root: Path, benchmark: str | None) -> float | None:
    """The wall time (`s`) of the last run recorded in a job's benchmark TSV; None without one."""
    return schedule.last_run_seconds(root / benchmark) if benchmark else None
