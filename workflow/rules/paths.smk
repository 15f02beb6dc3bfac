# Config validation, paths, and the input/output/param functions every generated rule uses.
import os
import sys
from pathlib import Path

# Use this checkout's library (also in job processes), even if another copy is installed.
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ.update(PYTHONPATH=_SRC)

from paperdag import contract
from paperdag.config import ConfigError, resolve_paper, validate_config
from paperdag.registry import stage_sources
from paperdag.stage import results_root

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas")
except ConfigError as err:
    sys.exit(f"paperdag: {err}")

SCALE = config["scale"]
# One software environment for every rule (the pip venv made by `make` is its default
# realisation; `--sdm conda` builds it with conda instead).
CONDA_ENV = "../../envs/paperdag.yaml"
RESULTS = results_root(SCALE)
PAPERS = list(config["papers"])
REPORT_KINDS = {"tables": "table", "figures": "figure"}


wildcard_constraints:
    seed=r"\d+",
    method=r"[A-Za-z0-9_.]+",


def paper_cfg(paper):
    """The settings of `paper` at the current scale."""
    return resolve_paper(config, paper)


def paper_dir(paper):
    return f"{RESULTS}/{paper}"


def report_caption(paper):
    """Caption of a paper's tables and figures in the report: its own .rst if it has one."""
    own = Path(workflow.basedir) / "workflow" / "report" / f"{paper}.rst"
    return f"../report/{paper}.rst" if own.exists() else "../report/result.rst"


def stage_outputs(paper, stage, fixed):
    """Output patterns of a stage (wildcards left in), as the paper's spec declares them.

    Tables (`tables/*`) and figures (`figures/*`) are marked for `snakemake --report`:
    category = paper id, subcategory = Tables/Figures, labels paper, file and kind.
    """
    outputs = []
    for rel in contract.paper_spec(paper).outputs(paper_cfg(paper), stage, dict(fixed)):
        path = f"{paper_dir(paper)}/{rel}"
        kind = REPORT_KINDS.get(rel.split("/", 1)[0])
        if kind is not None:
            name = rel.split("/", 1)[1]
            path = report(
                path,
                caption=report_caption(paper),
                category=paper,
                subcategory=f"{kind.title()}s",
                labels={"paper": paper, "file": name, "kind": kind},
            )
        outputs.append(path)
    return outputs


def stage_params(paper, stage, fixed):
    """Param function: only the settings this job depends on (so only it reruns when they change)."""

    def params(wildcards):
        return contract.paper_spec(paper).job_config(
            paper_cfg(paper), stage, {**wildcards, **fixed}
        )

    return params


def stage_inputs(paper, stage, fixed):
    """Input function: the stage's data inputs plus every library file it can execute."""

    def inputs(wildcards):
        spec = contract.paper_spec(paper)
        rel = spec.inputs(paper_cfg(paper), stage, {**wildcards, **fixed})
        code = stage_sources(
            paper, stage
        )  # paperdag.registry: found statically, lazy imports included
        return {
            "data": [f"{paper_dir(paper)}/{p}" for p in rel],
            "code": [os.path.relpath(p, workflow.basedir) for p in code],
        }

    return inputs


def job_file(kind, paper, stage, tag, ext):
    """`results/[<scale>/]<kind>/<paper>/<stage>[/<tag>]<ext>` for logs and benchmarks."""
    tag = tag.strip(os.sep)
    return os.path.join(RESULTS, kind, paper, stage, *([tag] if tag else [])) + ext


def published(paper):
    """A paper's claims.json, Markdown tables (spec order: the first is the headline) and PNG figures."""
    outs = contract.paper_spec(paper).outputs(
        paper_cfg(paper), contract.REPORT_STAGE, {}
    )
    return {
        "paper": paper,
        "claims": f"{paper_dir(paper)}/claims.json",
        "tables": [
            f"{paper_dir(paper)}/{o}"
            for o in outs
            if o.startswith("tables/") and o.endswith(".md")
        ],
        "figures": [
            f"{paper_dir(paper)}/{o}"
            for o in outs
            if o.startswith("figures/") and o.endswith(".png")
        ],
    }


def published_files(wildcards):
    """Every file the results front page is built from."""
    return [
        f
        for p in map(published, PAPERS)
        for f in [p["claims"], *p["tables"], *p["figures"]]
    ]


def all_claims():
    return [f"{paper_dir(p)}/claims.json" for p in PAPERS]
