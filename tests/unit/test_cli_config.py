"""Bad numbers stop before any job: NaN and ±inf anywhere in the config are refused with one
line naming the key (JSON Schema's minimum/maximum compare false with NaN, so they pass it)."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml

from paperdag.config import ConfigError, check_finite, load_config, validate_config
from paperdag.stage import PROJECT_ROOT

SCHEMAS = PROJECT_ROOT / "workflow" / "schemas"
CONFIG = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_hyperparameter_is_refused_naming_the_key(bad: float) -> None:
    config = copy.deepcopy(CONFIG)
    config["monge_gap"]["base"]["training"]["lr"] = bad
    with pytest.raises(ConfigError) as err:
        validate_config(config, SCHEMAS)
    message = str(err.value)
    assert "'monge_gap.base.training.lr'" in message and "not a finite number" in message and "\n" not in message


def test_nan_in_yaml_and_in_lists_and_overrides(tmp_path: Path) -> None:
    text = (PROJECT_ROOT / "config.yaml").read_text()
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("lr: 1.0e-3", "lr: .nan", 1))  # YAML's NaN, as a user would type it
    with pytest.raises(ConfigError, match=r"monge_gap\.base\.training\.lr.*not a finite number"):
        load_config(path, SCHEMAS)
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"it_bounds\.smoke\.x\[1\]"):  # `--config`-style override
        load_config(path, SCHEMAS, {"it_bounds": {"smoke": {"x": [1.0, float("inf")]}}})
    check_finite({"a": [1, 2.5, {"b": -3e300}], "c": "nan"})  # finite numbers and strings pass
    assert load_config(path, SCHEMAS)["scale"] in ("smoke", "default", "paper")
