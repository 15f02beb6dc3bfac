"""Per-run outputs: metrics.json + provenance.json, and reading them back as one table."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from paperdag.io import read_json, write_json
from paperdag.provenance import provenance_record


def write_run(metrics_path: str | Path, metrics: dict[str, Any], *, config_hash: str, seed: int | None,
              started: float, extra: dict | None = None) -> None:
    """Write provenance.json first, then metrics.json (the declared output) last.

    `metrics` should carry the run's identity (method, setting, seed) as well as its numbers.
    """
    metrics_path = Path(metrics_path)
    write_json(metrics_path.with_name("provenance.json"), provenance_record(
        config_hash=config_hash, seed=seed, wall_time_s=time.perf_counter() - started, extra=extra))
    write_json(metrics_path, metrics)


def load_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """All metrics.json files as one DataFrame, one row per run, in a stable order."""
    records = [read_json(p) for p in sorted(map(str, paths))]
    df = pd.DataFrame.from_records(records)
    return df.reindex(sorted(df.columns), axis=1) if len(df) else df
