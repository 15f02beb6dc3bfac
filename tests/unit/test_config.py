"""Config validation: every bad value is rejected with one message naming the key."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from paperdag.config import ConfigError, deep_merge, resolve_paper, validate_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"


@pytest.fixture(scope="module")
def good() -> dict:
    return yaml.safe_load((ROOT / "config.yaml").read_text())


def test_shipped_config_is_valid(good):
    validate_config(good, SCHEMAS)


def _set(cfg: dict, path: str, value) -> dict:
    cfg = copy.deepcopy(cfg)
    *parents, last = path.split(".")
    node = cfg
    for key in parents:
        node = node.setdefault(key, {})
    if value is _DELETE:
        node.pop(last)
    else:
        node[last] = value
    return cfg


_DELETE = object()

BAD = [  # (path to change, bad value, text the error must contain)
    ("scale", "huge", "scale"),
    ("scael", "smoke", "scael"),
    ("papers", [], "papers"),
    ("papers", ["monge_gap", "no_such_paper"], "no_such_paper"),
    ("papers", "monge_gap", "papers"),
    ("allow_cpu", "yes", "allow_cpu"),
    ("monge_gap.base.seeds", [-1], "monge_gap.default.seeds[0]"),  # smoke overrides seeds
    ("monge_gap.base.dims", [], "dims"),
    ("monge_gap.base.dims", [2, "eight"], "dims[1]"),
    ("monge_gap.base.benchmarks", ["mnist"], "benchmarks[0]"),
    ("monge_gap.base.training.steps", -5, "training.steps"),
    ("monge_gap.base.training.lr", 1e9, "training.lr"),
    ("monge_gap.base.training.stpes", 10, "stpes"),
    ("monge_gap.base.methods.mlp.kind", "transformer", "methods.mlp.kind"),
    ("monge_gap.base.methods.bad name!", {"kind": "mlp"}, "bad name!"),
    ("monge_gap.base.n_eval", 10**9, "n_eval"),
    ("monge_gap.default.eval_blur", 0, "monge_gap.default.eval_blur"),
    ("monge_gap.base", _DELETE, "base"),
    ("monge_gap.huge", {}, "huge"),
]


@pytest.mark.parametrize("path,value,names", BAD, ids=[b[0] + "=" + str(b[1])[:20] for b in BAD])
def test_bad_config_rejected_naming_the_key(good, path, value, names):
    with pytest.raises(ConfigError) as err:
        validate_config(_set(good, path, value), SCHEMAS)
    assert names in str(err.value)


def test_deep_merge_and_resolution(good):
    assert deep_merge({"a": {"b": 1, "c": 2}}, {"a": {"c": 3}}) == {"a": {"b": 1, "c": 3}}
    smoke = resolve_paper(good, "monge_gap", "smoke")
    default = resolve_paper(good, "monge_gap", "default")
    assert smoke["dims"] == [2] and default["dims"] == good["monge_gap"]["base"]["dims"]
    assert smoke["training"]["lr"] == default["training"]["lr"]  # inherited from base
