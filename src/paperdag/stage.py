"""Run one stage of one paper: the bridge between a Snakemake job and the library.

A paper declares its stages in `spec.STAGES` (`paperdag.contract`); the stage `train` of
`monge_gap` is the function `paperdag.papers.monge_gap.<module>.train(job)`. The generated
rules call it through `workflow/scripts/stage.py`, and the same script runs it by hand:

    paperdag stage monge_gap train benchmark=gaussian job=maps --scale smoke
    python workflow/scripts/stage.py monge_gap train --scale smoke benchmark=gaussian job=maps

Outside Snakemake the job's settings, inputs and outputs come from the paper's `spec`
module, exactly as the rules compute them.
"""
from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paperdag.config import config_hash, load_config, resolve_paper
from paperdag.contract import paper_spec, stage_function

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def results_root(scale: str) -> str:
    """Where a scale writes: `results/` for default, `results/<scale>/` otherwise."""
    return "results" if scale == "default" else f"results/{scale}"


@dataclass
class Job:
    """Everything a stage function needs; nothing Snakemake-specific."""

    paper: str
    stage: str
    scale: str
    cfg: dict[str, Any]
    wildcards: dict[str, str] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    log: str | None = None
    threads: int = 1
    resources: dict[str, Any] = field(default_factory=dict)
    allow_cpu: bool = False  # config `allow_cpu`: let GPU-declaring jobs fall back to CPU

    @property
    def label(self) -> str:
        parts = [self.paper, self.stage] + [f"{k}={v}" for k, v in sorted(self.wildcards.items())]
        return " ".join(parts)

    @property
    def config_hash(self) -> str:
        return config_hash(self.cfg)

    def accelerator(self) -> str:
        """'gpu' when the rule declared GPUs (and claims one), else 'cpu' (paperdag.training)."""
        from paperdag.training import choose_accelerator

        gres = str(self.resources.get("gres", "") or "")
        wants_gpu = int(self.resources.get("gpu", 0) or 0) > 0 or gres.startswith("gpu")
        return choose_accelerator(wants_gpu, self.allow_cpu)

    def output(self, pattern: str, **fields: Any) -> str:
        """The declared output of one run: `pattern` (relative to the paper's results folder,
        as its spec declares it) filled with `fields` and the job's wildcards."""
        rel = pattern.format(**{**self.wildcards, **fields})
        for out in self.outputs:
            if out == rel or out.endswith("/" + rel):
                return out
        raise KeyError(f"{self.label}: {rel} is not an output of this job")

    def checkpoint_dir(self) -> Path:
        """Outside the declared outputs, so Snakemake's clean-up of a failed job keeps it."""
        tag = "-".join(f"{k}={v}" for k, v in sorted(self.wildcards.items())) or "all"
        return Path(results_root(self.scale)) / ".ckpt" / self.paper / self.stage / tag


@contextlib.contextmanager
def _logging_to(path: str | None) -> Iterator[None]:
    root = logging.getLogger()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    log_file = None
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        log_file = open(path, "a")
        handlers.append(logging.StreamHandler(log_file))
    for h in handlers:
        h.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(h)
    root.setLevel(logging.INFO)
    try:
        if log_file:
            with contextlib.redirect_stdout(log_file):
                yield
        else:
            yield
    finally:
        for h in handlers:
            root.removeHandler(h)
        if log_file:
            log_file.close()


def seconds_since_process_start() -> float:
    """Wall seconds since this process was created (its start-up: interpreter, imports)."""
    import psutil

    return time.time() - psutil.Process().create_time()


def process_cpu_seconds() -> float:
    """User + system CPU seconds of this process (all its threads, imports included) and of its
    waited-for children: exact, unlike the benchmark file's `cpu_time`, which Snakemake samples
    every 30 s and so misses up to 30 s at the end of each job."""
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def keep_freed_memory() -> None:
    """Cost only (results unchanged): let glibc's malloc keep freed memory for reuse. A training step
    allocates and frees tensors of several MB (activations, gradients); by default glibc may serve them
    with fresh mmaps and trims freed memory off the heap, so every step pays thousands of page faults
    (about 5% of a width-128 scaling_wisdom step's CPU time, measured). No-op where the C library is
    not glibc."""
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
    libc.mallopt(m_mmap_threshold, 32 << 20)  # blocks under 32 MiB from the heap (glibc's largest threshold)
    libc.mallopt(m_trim_threshold, 1 << 30)  # give memory back to the system only past 1 GiB free
    libc.mallopt(m_top_pad, 64 << 20)


def run_job(job: Job) -> None:
    """Call the stage function, logging its start, end, wall and CPU time and any error; a finished
    job's training checkpoints are removed (they only serve to resume an interrupted run, and a
    later rerun after a code change must not resume from them)."""
    stage_fn = stage_function(job.paper, job.stage)
    keep_freed_memory()
    log = logging.getLogger("paperdag")
    with _logging_to(job.log):
        log.info("start %s (scale=%s, threads=%d; %.1f s of start-up: interpreter and imports)", job.label, job.scale,
                 job.threads, seconds_since_process_start())
        start = time.perf_counter()
        try:
            stage_fn(job)
        except Exception:
            log.error("failed %s\n%s", job.label, traceback.format_exc())
            raise
        log.info("done %s in %.1f s (%.1f s CPU in this process, start-up included)", job.label,
                 time.perf_counter() - start, process_cpu_seconds())
        shutil.rmtree(job.checkpoint_dir(), ignore_errors=True)


def job_from_snakemake(smk: Any) -> Job:
    """Build a Job from the `snakemake` object that Snakemake injects into scripts."""
    return Job(
        paper=smk.params.paper,
        stage=smk.params.stage,
        scale=smk.config["scale"],
        cfg=dict(smk.params.cfg),
        wildcards={**dict(smk.wildcards.items()), **dict(smk.params.fixed)},
        inputs=[str(p) for p in smk.input],
        outputs=[str(p) for p in smk.output],
        log=str(smk.log[0]) if len(smk.log) else None,
        threads=int(smk.threads),
        resources={k: v for k, v in smk.resources.items() if not k.startswith("_")},
        allow_cpu=bool(smk.config.get("allow_cpu", False)),
    )


def settings_override(paper: str, scale: str, assignments: list[str]) -> dict[str, Any]:
    """`training.steps=50` → {paper: {scale: {"training": {"steps": 50}}}} (values parsed as YAML)."""
    import yaml

    block: dict[str, Any] = {}
    for item in assignments:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--set expects KEY=VALUE with a dotted KEY, got {item!r}")
        *parents, leaf = key.split(".")
        node = block
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw)
    return {paper: {scale: block}} if block else {}


def job_from_spec(paper: str, stage: str, scale: str, wildcards: dict[str, str], config_path: Path,
                  settings: list[str] | None = None, gpus: int = 0, allow_cpu: bool | None = None) -> Job:
    """Build the same Job the rules would build, from config.yaml and the paper's spec.

    `settings` are dotted overrides of the paper's block at this scale (validated like
    config.yaml); `gpus` declares GPUs as the rule's `resources: gpu=` would.
    """
    overrides = {"scale": scale, **settings_override(paper, scale, settings or [])}
    config = load_config(config_path, PROJECT_ROOT / "workflow" / "schemas", overrides)
    cfg = resolve_paper(config, paper)
    spec = paper_spec(paper)
    root = f"{results_root(scale)}/{paper}"
    def fill(patterns: list[str]) -> list[str]:
        return [p.format(**wildcards) for p in patterns]

    return Job(
        paper=paper, stage=stage, scale=scale,
        cfg=spec.job_config(cfg, stage, wildcards),
        wildcards=wildcards,
        inputs=[f"{root}/{p}" for p in fill(spec.inputs(cfg, stage, wildcards))],
        outputs=[f"{root}/{p}" for p in fill(spec.outputs(cfg, stage, wildcards))],
        resources={"gpu": gpus} if gpus else {},
        allow_cpu=bool(config.get("allow_cpu", False)) if allow_cpu is None else allow_cpu,
    )


def stage_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The by-hand runner's arguments (`paperdag stage`, `workflow/scripts/stage.py`)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paper")
    parser.add_argument("stage")
    parser.add_argument("wildcards", nargs="*", help="key=value pairs naming the job")
    parser.add_argument("--scale", default="smoke")
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yaml")
    parser.add_argument("--set", dest="settings", action="append", default=[], metavar="KEY=VALUE",
                        help="override one setting of the paper at this scale, e.g. training.steps=50")
    parser.add_argument("--gpu", type=int, default=0, metavar="N", help="declare N GPUs, as the rule's resources would")
    parser.add_argument("--allow-cpu", action="store_true", default=None, help="let a GPU-declaring job run on CPU")
    return parser


def parse_stage_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    """Options may come before, between or after the `key=value` wildcards (intermixed parsing:
    plain `parse_args` stops collecting positionals at the first option)."""
    parser = stage_parser(prog)
    args = parser.parse_intermixed_args(argv)
    bad = [w for w in args.wildcards if "=" not in w or w.startswith("=")]
    if bad:
        parser.error(f"wildcards are key=value pairs, got {' '.join(bad)}")
    return args


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_stage_args(argv, prog)
    wildcards = dict(w.split("=", 1) for w in args.wildcards)
    run_job(job_from_spec(args.paper, args.stage, args.scale, wildcards, args.config,
                          settings=args.settings, gpus=args.gpu, allow_cpu=args.allow_cpu))
    return 0
