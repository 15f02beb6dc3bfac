"""Load, validate and resolve config.yaml.

Each paper section has a `base` block and optional per-scale blocks (`smoke`,
`default`, `paper`) that are deep-merged over it. The top-level schema
(`workflow/schemas/config.schema.yaml`) checks the shape; each paper's own schema
(`workflow/schemas/<paper>.schema.yaml`) checks every resolved scale of its section.
Errors name the key and what is allowed, and are raised before any job runs; NaN and
infinite numbers are refused everywhere (`check_finite`), since schema bounds cannot catch them.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from paperdag import SCALES


class ConfigError(ValueError):
    """A config value is wrong; the message names the key."""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return `base` updated recursively by `override` (lists and scalars are replaced)."""
    merged = copy.deepcopy(dict(base))
    for key, value in (override or {}).items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def resolve_paper(config: Mapping[str, Any], paper: str, scale: str | None = None) -> dict[str, Any]:
    """The settings of one paper at one scale (`base` merged with the scale block)."""
    scale = scale or config["scale"]
    section = config[paper]
    return deep_merge(section.get("base", {}), section.get(scale, {}))


def _key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _validate(instance: Any, schema: Mapping[str, Any], where: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        err = errors[0]
        key = _key_path([where, *err.absolute_path] if where else list(err.absolute_path))
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise ConfigError(f"config error at '{key}': {err.message}{more}")


def check_finite(value: Any, path: tuple[Any, ...] = ()) -> None:
    """Refuse NaN and ±inf anywhere in the config (`lr: .nan` in YAML, `--config x=nan`).

    JSON Schema bounds compare false with NaN, so `minimum`/`maximum` alone let it through.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config error at '{_key_path(path)}': {value} is not a finite number")
    if isinstance(value, Mapping):
        for key, item in value.items():
            check_finite(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_finite(item, (*path, i))


def load_schema(path: Path) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text())


def validate_config(config: Mapping[str, Any], schema_dir: Path) -> None:
    """Validate the whole config: the top-level shape, then every scale of every enabled paper."""
    schema_dir = Path(schema_dir)
    check_finite(config)
    _validate(config, load_schema(schema_dir / "config.schema.yaml"), "")
    for paper in config["papers"]:
        if paper not in config:
            raise ConfigError(f"config error at 'papers': paper '{paper}' is enabled but has no '{paper}:' section")
        schema_file = schema_dir / f"{paper}.schema.yaml"
        if not schema_file.exists():
            raise ConfigError(f"config error at 'papers': no schema {schema_file} for paper '{paper}'")
        paper_schema = load_schema(schema_file)
        for scale in SCALES:
            _validate(resolve_paper(config, paper, scale), paper_schema, f"{paper}.{scale}")


def load_config(path: Path, schema_dir: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read config.yaml, apply overrides (as `--config k=v` would), validate, return it."""
    config = deep_merge(yaml.safe_load(Path(path).read_text()) or {}, overrides)
    validate_config(config, schema_dir)
    return config


def config_hash(data: Any) -> str:
    """A short stable hash of a JSON-able value (used in provenance)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]
