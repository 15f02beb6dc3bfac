"""Training steps per manifold (issue 22): `training.steps` is one count or a mapping manifold -> count;
the schema rejects unknown manifolds, a job carries only its manifolds' counts, and each trained run
records the count it ran by value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperdag.config import ConfigError
from paperdag.papers.gauge_freedom import spec, stages
from paperdag.stage import PROJECT_ROOT, job_from_spec

CONFIG = PROJECT_ROOT / "config.yaml"


def test_manifold_steps_reads_a_count_or_a_mapping() -> None:
    assert spec.manifold_steps({"steps": 500}, "torus") == 500
    mapping = {"steps": {"sphere": 300, "swiss_roll": 900}}
    assert spec.manifold_steps(mapping, "swiss_roll") == 900
    assert spec.manifold_steps(mapping, "sphere") == 300
    with pytest.raises(KeyError, match="torus"):
        spec.manifold_steps(mapping, "torus")


def test_default_scale_gives_the_swiss_roll_more_steps_than_s2_and_the_torus() -> None:
    job = job_from_spec("gauge_freedom", "train", "default", {"kind": "unconstrained"}, CONFIG)
    steps = job.cfg["training"]["steps"]
    assert set(steps) == set(job.cfg["manifolds"])
    assert steps["swiss_roll"] > steps["sphere"] and steps["swiss_roll"] > steps["torus"]


def test_a_job_of_one_manifold_carries_only_its_own_count() -> None:
    """Changing the torus's count does not change the hash of a by-hand Swiss roll run (no rerun)."""
    wc = {"kind": "conservative", "manifold": "swiss_roll"}
    a = job_from_spec("gauge_freedom", "train", "default", wc, CONFIG)
    b = job_from_spec("gauge_freedom", "train", "default", wc, CONFIG, settings=["training.steps.torus=123"])
    c = job_from_spec("gauge_freedom", "train", "default", wc, CONFIG, settings=["training.steps.swiss_roll=123"])
    assert a.cfg["training"]["steps"] == {"swiss_roll": a.cfg["training"]["steps"]["swiss_roll"]}
    assert a.config_hash == b.config_hash != c.config_hash


@pytest.mark.parametrize("value", ["{cube: 10}", "{sphere: 0}", "{sphere: 2.5}", "0"])
def test_the_schema_rejects_bad_step_counts(value: str) -> None:
    with pytest.raises((ConfigError, SystemExit)):
        job_from_spec("gauge_freedom", "train", "smoke", {"kind": "conservative"}, CONFIG, settings=[f"training.steps={value}"])


def test_a_trained_run_records_the_steps_it_ran(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny smoke run of S² with a mapping: its metrics and settings name its own count, and its curve ends there."""
    monkeypatch.chdir(tmp_path)  # checkpoints land under the test's folder
    job = job_from_spec(
        "gauge_freedom",
        "train",
        "smoke",
        {"kind": "unconstrained", "manifold": "sphere"},
        CONFIG,
        settings=["training.steps={sphere: 6, torus: 50}", "training.checkpoint_every=3"],
    )
    job.outputs = [str(tmp_path / p.split("gauge_freedom/", 1)[1]) for p in job.outputs]
    stages._train_one(job, "sphere", "unconstrained")
    record = json.loads((tmp_path / "trained/sphere/unconstrained/seed0/metrics.json").read_text())
    assert record["steps"] == 6 and record["settings"]["steps"] == 6
    assert record["curve"]["step"][-1] == 5
