"""No partial outputs: a write that fails part-way leaves nothing at the final name."""
from __future__ import annotations

import time

import pytest

from paperdag import runs
from paperdag.io import atomic_path, write_json


def test_failed_write_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out" / "metrics.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"l2_uvp": 1.')  # half written
            raise RuntimeError("killed mid-write")
    assert list(target.parent.iterdir()) == []


def test_failed_rewrite_keeps_the_previous_complete_file(tmp_path):
    target = tmp_path / "metrics.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("{")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "v": 1\n}\n' and [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_run_without_metrics_is_not_finished(tmp_path, monkeypatch):
    """metrics.json (the declared output) is written last: a crash before it leaves the run unfinished."""
    metrics = tmp_path / "seed0" / "metrics.json"
    real = runs.write_json

    def crash_on_metrics(path, data):
        if path == metrics:
            raise RuntimeError("killed before the metrics")
        real(path, data)

    monkeypatch.setattr(runs, "write_json", crash_on_metrics)
    with pytest.raises(RuntimeError):
        runs.write_run(metrics, {"seed": 0}, config_hash="abc", seed=0, started=time.perf_counter())
    assert (metrics.parent / "provenance.json").exists() and not metrics.exists()
