"""Per-run outputs: metrics.json + provenance.json, and reading them back as one table."""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from paperdag.io import read_json, write_json
from paperdag.provenance import provenance_record

SETTINGS = "settings"


def write_run(metrics_path: str | Path, metrics: dict[str, Any], *, config_hash: str, seed: int | None,
              started: float, settings: Mapping[str, Any] | None = None, extra: dict | None = None) -> None:
    """Write provenance.json first, then metrics.json (the declared output) last.

    `metrics` carries the run's identity (method, setting, seed) and its numbers;
    `settings` the resolved settings it ran with, by value (λ, widths, learning rate, steps,
    batch, seed …), as a checkpoint carries its config. Claims and tables select runs by them.
    """
    metrics_path = Path(metrics_path)
    write_json(metrics_path.with_name("provenance.json"), provenance_record(
        config_hash=config_hash, seed=seed, wall_time_s=time.perf_counter() - started, extra=extra))
    record = {**metrics, SETTINGS: dict(settings)} if settings is not None else metrics
    write_json(metrics_path, record)


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {k: v for key, sub in value.items() for k, v in _flatten(f"{prefix}.{key}", sub).items()}
    return {prefix: value}


def load_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """All metrics.json files as one DataFrame, one row per run, in a stable order.

    A run's recorded settings become columns `settings.<key>[.<subkey>…]`.
    """
    records = []
    for path in sorted(map(str, paths)):
        record = read_json(path)
        settings = record.pop(SETTINGS, None)
        records.append({**record, **(_flatten(SETTINGS, settings) if settings is not None else {})})
    df = pd.DataFrame.from_records(records)
    return df.reindex(sorted(df.columns), axis=1) if len(df) else df
