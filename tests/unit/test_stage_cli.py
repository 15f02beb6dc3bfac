"""The stage adapter run by hand: `--set` overrides, `--gpu`, and the GPU smoke script's jobs."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from paperdag.config import ConfigError
from paperdag.stage import PROJECT_ROOT, job_from_spec, settings_override

CONFIG = PROJECT_ROOT / "config.yaml"


def test_settings_override_builds_nested_block_with_yaml_values() -> None:
    got = settings_override("monge_gap", "smoke", ["training.steps=7", "dims=[2, 4]", "name=abc"])
    assert got == {"monge_gap": {"smoke": {"training": {"steps": 7}, "dims": [2, 4], "name": "abc"}}}
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        settings_override("monge_gap", "smoke", ["training.steps"])


def test_job_from_spec_applies_override_and_gpu() -> None:
    plain = job_from_spec("monge_gap", "train", "smoke", {"benchmark": "gaussian", "job": "maps"}, CONFIG)
    changed = job_from_spec("monge_gap", "train", "smoke", {"benchmark": "gaussian", "job": "maps"}, CONFIG,
                            settings=["training.steps=7"], gpus=1)
    assert changed.cfg["training"]["steps"] == 7 != plain.cfg["training"]["steps"]
    assert changed.config_hash != plain.config_hash  # provenance tells the two apart
    assert changed.resources == {"gpu": 1} and plain.resources == {}


def test_override_is_validated_like_config_yaml() -> None:
    with pytest.raises(ConfigError, match="monge_gap.smoke.training.steps"):
        job_from_spec("monge_gap", "train", "smoke", {"benchmark": "gaussian", "job": "maps"}, CONFIG,
                      settings=["training.steps=-3"])


def test_gpu_smoke_script_jobs_are_valid() -> None:
    """tools/device/gpu_smoke.py must keep building valid jobs as config.yaml evolves."""
    path = Path(PROJECT_ROOT, "tools", "device", "gpu_smoke.py")
    spec = importlib.util.spec_from_file_location("gpu_smoke", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.check(module.CORRECTNESS + module.PAPER) == 0
