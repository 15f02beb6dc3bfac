"""Adding a paper is one package and one config section (plus its schema): no rules file.

The test writes a toy eighth paper into a copy of the project, exactly as
docs/ADDING_A_PAPER.md describes, and runs its smoke DAG end to end.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import edit_config, snakemake

pytestmark = pytest.mark.workflow

PACKAGE = {
    "__init__.py": '"""A toy paper: the mean of n draws approaches 0.5 (used only by the tests)."""\n',
    "spec.py": '''
        """What the toy jobs are, where they write, and which settings each reads."""
        from __future__ import annotations

        from typing import Any

        from paperdag.contract import Stage

        RUN = "runs/n{n}/metrics.json"
        STAGES = (
            Stage("draw", tag="n{n}", gpu=False, constraints={"n": r"\\d+"}),
            Stage("report", heavy=False),
        )


        def outputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
            if stage == "draw":
                return [RUN]
            return ["claims.json", "tables/means.csv", "tables/means.md", "tables/means.tex"]


        def inputs(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> list[str]:
            return [RUN.format(n=n) for n in cfg["sizes"]] if stage == "report" else []


        def job_config(cfg: dict[str, Any], stage: str, wildcards: dict[str, str]) -> dict[str, Any]:
            if stage == "draw":
                return {"n": int(wildcards["n"]), "seed": cfg["seed"]}
            return {"sizes": cfg["sizes"], "claims": cfg["claims"]}
        ''',
    "stages.py": '''
        """The toy stages."""
        from __future__ import annotations

        import time

        import numpy as np

        from paperdag.papers.toy.spec import RUN
        from paperdag.runs import write_run
        from paperdag.stage import Job


        def draw(job: Job) -> None:
            """The mean of n uniform draws."""
            t0 = time.perf_counter()
            n, seed = job.cfg["n"], job.cfg["seed"]
            mean = float(np.random.default_rng(seed).random(n).mean())
            write_run(job.output(RUN), {"n": n, "mean": mean}, config_hash=job.config_hash, seed=seed, started=t0,
                      settings=job.cfg)


        def report(job: Job) -> None:
            """Tables and claims.json from every run."""
            from paperdag.aggregate import report_paper
            from paperdag.papers.toy.claims import claims
            from paperdag.papers.toy.summary import summarize

            report_paper(job, claims(job.cfg), summarize)
        ''',
    "claims.py": '''
        """The toy claim, its tolerance from config."""
        from __future__ import annotations

        from functools import partial
        from typing import Any

        import pandas as pd

        from paperdag.claims import Claim, Outcome


        def near_half(tolerance: float, runs: pd.DataFrame) -> Outcome:
            error = float(abs(runs.sort_values("n")["mean"].iloc[-1] - 0.5))
            return Outcome(error, error <= tolerance, "largest n")


        def claims(cfg: dict[str, Any]) -> list[Claim]:
            tol = cfg["claims"]["tolerance"]
            return [Claim("near_half", "The mean of many uniform draws is near 1/2", f"|mean − 0.5| ≤ {tol:g}",
                          partial(near_half, tol), scales=("smoke", "default", "paper"))]
        ''',
    "summary.py": '''
        """The toy table."""
        from __future__ import annotations

        from pathlib import Path

        import pandas as pd

        from paperdag.stage import Job
        from paperdag.tables import write_table


        def summarize(runs: pd.DataFrame, paper_dir: Path, job: Job) -> None:
            write_table(runs[["n", "mean"]].sort_values("n"), paper_dir / "tables" / "means")
        ''',
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["sizes", "seed", "claims"],
    "properties": {
        "sizes": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 1}},
        "seed": {"type": "integer"},
        "claims": {"type": "object", "additionalProperties": False, "required": ["tolerance"],
                   "properties": {"tolerance": {"type": "number", "exclusiveMinimum": 0}}},
    },
}


def add_toy_paper(root: Path) -> None:
    package = root / "src" / "paperdag" / "papers" / "toy"
    package.mkdir()
    for name, text in PACKAGE.items():
        (package / name).write_text(textwrap.dedent(text).lstrip())
    (root / "workflow" / "schemas" / "toy.schema.yaml").write_text(yaml.safe_dump(SCHEMA))

    def add_section(cfg: dict) -> None:
        cfg["papers"] = ["toy"]
        cfg["toy"] = {"base": {"sizes": [10, 100000], "seed": 0, "claims": {"tolerance": 0.01}}}

    edit_config(root, add_section)


def test_a_toy_eighth_paper_runs_end_to_end(project: Path) -> None:
    add_toy_paper(project)
    assert not (project / "workflow" / "rules" / "toy.smk").exists()
    snakemake(project, "--config", "scale=smoke")
    out = project / "results" / "smoke"
    claims = json.loads((out / "toy" / "claims.json").read_text())["claims"]
    assert [(c["id"], c["status"]) for c in claims] == [("near_half", "pass")]
    run = json.loads((out / "toy" / "runs" / "n100000" / "metrics.json").read_text())
    assert run["settings"] == {"n": 100000, "seed": 0}
    assert (out / "logs" / "toy" / "draw" / "n10.log").exists()
    assert (out / "benchmarks" / "toy" / "draw" / "n10.tsv").exists()
    rubric = json.loads((out / "rubric.json").read_text())
    assert list(rubric["papers"]) == ["toy"] and rubric["totals"] == {"pass": 1}
    dry = snakemake(project, "-n", "--config", "scale=smoke")
    assert "Nothing to be done" in dry.stdout + dry.stderr
