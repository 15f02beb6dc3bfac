"""Benchmark: how long Snakemake takes to build the DAG when nothing is to be done.

Usage (from the repository root, after a run at that scale so that nothing is stale)::

    .venv/bin/python tools/bench/dag_build.py --scale default --repeats 5

Times `snakemake --version` (Snakemake's own start-up: imports and plugins, about 10 s where
the SLURM plugin's `scontrol` finds no controller) and `snakemake -n` (start-up, the config
schema, every paper's spec and the DAG), each `--repeats` times, interleaved, and prints the
medians and their difference: the cost of building paperdag's DAG. A measurement, not a test:
the numbers depend on the machine and on what else runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def timed(args: list[str]) -> tuple[float, str]:
    env = {**os.environ, "PYTHONHASHSEED": "0", "DVC_NO_ANALYTICS": "1"}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"snakemake {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="default")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    startup, dry = [], []
    for _ in range(args.repeats):
        startup.append(timed(["--version"])[0])
        seconds, out = timed(["-n", "--config", f"scale={args.scale}"])
        dry.append(seconds)
    nothing = "Nothing to be done" in out
    print(f"scale {args.scale}, {args.repeats} repeats, load average {os.getloadavg()[0]:.2f}")
    print(f"snakemake --version: median {statistics.median(startup):.2f} s")
    print(f"snakemake -n:        median {statistics.median(dry):.2f} s ({'nothing to be done' if nothing else 'jobs are stale'})")
    print(f"DAG build beyond start-up: {statistics.median(dry) - statistics.median(startup):.2f} s")


if __name__ == "__main__":
    main()
