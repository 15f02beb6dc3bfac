"""The paper contract: each paper declares its stages once, in `spec.STAGES`.

A stage is one step of a paper (download, train, report, …). Its name is, all at once,
the name of the function that runs it (`paperdag.papers.<paper>.<module>.<name>`), the
Snakemake rule `<paper>_<name>` generated from the declaration (workflow/rules/papers.smk),
the folder of its logs and benchmarks, and the folder of its checkpoints. Nothing else
names it: the workflow loops over `STAGES`, and a stage run by hand goes through the same
declaration.

This module is light (no torch, no pandas): the workflow imports it to build the DAG.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

REPORT_STAGE = "report"
TABLE_FORMATS = ("csv", "md", "tex")  # what paperdag.tables.write_table writes
FIGURE_FORMATS = ("png", "pdf")  # what paperdag.figures.save_figure writes


def report_outputs(tables: Iterable[str], figures: Iterable[str]) -> list[str]:
    """A report stage's outputs, relative to the paper's folder: claims.json, then every table
    and every figure in each of the formats the writers produce."""
    return (["claims.json"] + [f"tables/{t}.{ext}" for t in tables for ext in TABLE_FORMATS]
            + [f"figures/{f}.{ext}" for f in figures for ext in FIGURE_FORMATS])


@dataclass(frozen=True)
class Stage:
    """One stage of a paper, as its rule and its by-hand run both see it.

    - `module`: the package module holding the function named like the stage.
    - `tag`: how the job's wildcards name its log and benchmark files (e.g. "{benchmark}/{method}").
    - `heavy`: training or evaluation; gets a `benchmark:` and the scale's heavy resources.
      A light stage (downloads, reports) is a `localrule` and runs on the submitting host.
    - `gpu`: declares the scale's GPUs (False: CPU-only at every scale, e.g. numpy stages).
    - `threads`: fixed thread count; None takes the scale's.
    - `constraints`: wildcard regexes of this rule.
    - `requires`: a config key that must be set for the stage to exist at a scale
      (gda's CIFAR stages exist only where its `cifar` block does).
    - `split`: a config key whose entries each get their own rule `<paper>_<name>_<entry>`,
      for a stage whose outputs differ per entry (no wildcard pattern can cover them);
      the job still has stage `name`, and the entry as its wildcard `split_wildcard`.
    - `code`: modules whose source files are the job's code inputs, instead of what the
      function imports (a stage that must not rerun when unrelated code changes).
    """

    name: str
    module: str = "stages"
    tag: str = ""
    heavy: bool = True
    gpu: bool = True
    threads: int | None = None
    retries: int = 1
    constraints: Mapping[str, str] = field(default_factory=dict)
    requires: str | None = None
    split: str | None = None
    split_wildcard: str = "job"
    code: tuple[str, ...] = ()

    @property
    def local(self) -> bool:
        return not self.heavy

    def enabled(self, cfg: Mapping[str, Any]) -> bool:
        return self.requires is None or bool(cfg.get(self.requires))

    def split_values(self, cfg: Mapping[str, Any]) -> list[str]:
        """The entries that each get a rule; [""] for an ordinary stage (one rule)."""
        return list(cfg[self.split]) if self.split else [""]


def paper_spec(paper: str) -> ModuleType:
    """The light `spec` module of a paper (paths, stages, settings; no torch)."""
    return importlib.import_module(f"paperdag.papers.{paper}.spec")


def stages(paper: str, cfg: Mapping[str, Any] | None = None) -> list[Stage]:
    """A paper's declared stages; with `cfg`, only those that exist at its scale."""
    declared = list(paper_spec(paper).STAGES)
    return [s for s in declared if cfg is None or s.enabled(cfg)]


def stage(paper: str, name: str) -> Stage:
    """The declaration of one stage; a clear error names the paper's stages otherwise."""
    for s in paper_spec(paper).STAGES:
        if s.name == name:
            return s
    known = ", ".join(s.name for s in paper_spec(paper).STAGES)
    raise KeyError(f"paper '{paper}' has no stage '{name}' (its stages: {known})")


def module_name(paper: str, declared: Stage) -> str:
    return f"paperdag.papers.{paper}.{declared.module}"


def stage_function(paper: str, name: str) -> Callable[..., None]:
    """The function that runs a stage: `<module>.<name>` of the paper's package."""
    declared = stage(paper, name)
    return getattr(importlib.import_module(module_name(paper, declared)), declared.name)


def paper_claims(paper: str, cfg: Mapping[str, Any]) -> list:
    """A paper's claims for its resolved settings `cfg` at one scale: `claims.claims(report cfg)`."""
    report_cfg = paper_spec(paper).job_config(dict(cfg), REPORT_STAGE, {})
    return importlib.import_module(f"paperdag.papers.{paper}.claims").claims(report_cfg)


def rule_name(paper: str, declared: Stage, split_value: str = "") -> str:
    return "_".join(p for p in (paper, declared.name, split_value) if p)


def job_tag(declared: Stage, split_value: str = "") -> str:
    """How a job's logs and benchmarks are named: its tag, a split stage's entry filled in."""
    if not declared.split:
        return declared.tag
    return declared.tag.replace("{" + declared.split_wildcard + "}", split_value)


def split_wildcards(declared: Stage, split_value: str) -> dict[str, str]:
    """The fixed wildcard a split stage's rule carries (none for ordinary stages)."""
    return {declared.split_wildcard: split_value} if declared.split else {}
