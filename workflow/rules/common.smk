# Shared helpers: config validation, paths, input/param functions and resources.
# Everything a rule needs from config goes through a function here.
import os
import sys
from pathlib import Path

# Use this checkout's library (also in job processes), even if another copy is installed.
_SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, _SRC)
os.environ.update(PYTHONPATH=_SRC)

from paperdag.config import ConfigError, resolve_paper, validate_config
from paperdag.registry import library_sources, paper_spec
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


wildcard_constraints:
    seed=r"\d+",
    method=r"[A-Za-z0-9_.]+",


def paper_cfg(paper):
    """The settings of `paper` at the current scale."""
    return resolve_paper(config, paper)


def paper_dir(paper):
    return f"{RESULTS}/{paper}"


REPORT_KINDS = {"tables": "table", "figures": "figure"}


def report_caption(paper):
    """Caption of a paper's tables and figures in the report: its own .rst if it has one."""
    own = Path(workflow.basedir) / "workflow" / "report" / f"{paper}.rst"
    return f"../report/{paper}.rst" if own.exists() else "../report/result.rst"


def stage_outputs(paper, stage):
    """Output patterns of a stage (wildcards left in), as the paper's spec declares them.

    Tables (`tables/*`) and figures (`figures/*`) are marked for `snakemake --report`:
    category = paper id, subcategory = Tables/Figures, labels paper, file and kind.
    """
    spec = paper_spec(paper)
    outputs = []
    for rel in spec.outputs(paper_cfg(paper), stage):
        path = f"{paper_dir(paper)}/{rel}"
        kind = REPORT_KINDS.get(rel.split("/", 1)[0])
        if kind is not None:
            name = rel.split("/", 1)[1]
            path = report(path, caption=report_caption(paper), category=paper, subcategory=f"{kind.title()}s",
                          labels={"paper": paper, "file": name, "kind": kind})
        outputs.append(path)
    return outputs


def published(paper):
    """A paper's claims.json, Markdown tables (spec order: the first is the headline) and PNG figures."""
    outs = paper_spec(paper).outputs(paper_cfg(paper), "report")
    return {
        "paper": paper,
        "claims": f"{paper_dir(paper)}/claims.json",
        "tables": [f"{paper_dir(paper)}/{o}" for o in outs if o.startswith("tables/") and o.endswith(".md")],
        "figures": [f"{paper_dir(paper)}/{o}" for o in outs if o.startswith("figures/") and o.endswith(".png")],
    }


def published_files(wildcards):
    """Every file the results front page is built from."""
    return [f for p in map(published, PAPERS) for f in [p["claims"], *p["tables"], *p["figures"]]]


def stage_params(paper, stage):
    """Param function: only the settings this job depends on (so only it reruns when they change)."""

    def params(wildcards):
        return paper_spec(paper).job_config(paper_cfg(paper), stage, dict(wildcards))

    return params


def stage_inputs(paper, stage):
    """Input function: the stage's data inputs plus every library file it imports."""

    def inputs(wildcards):
        spec = paper_spec(paper)
        data = [f"{paper_dir(paper)}/{p}" for p in spec.inputs(paper_cfg(paper), stage, dict(wildcards))]
        code = library_sources(f"paperdag.papers.{paper}.stages", "paperdag.stage")
        return {"data": data, "code": [os.path.relpath(p, workflow.basedir) for p in code]}

    return inputs


def _tagged(kind, paper, stage, tag, ext):
    tag = tag.strip(os.sep)
    return os.path.join(RESULTS, kind, paper, stage, *([tag] if tag else [])) + ext


def log_file(paper, stage, tag=""):
    """Log path of a job; `tag` holds the rule's wildcards, e.g. "{benchmark}-{method}"."""
    return _tagged("logs", paper, stage, tag, ".log")


def benchmark_file(paper, stage, tag=""):
    return _tagged("benchmarks", paper, stage, tag, ".tsv")


def all_claims():
    return [f"{paper_dir(p)}/claims.json" for p in PAPERS]


# Resources by scale, in one place. Heavy (training/evaluation) jobs use these;
# light jobs (downloads, tables, figures, claims) are localrules.
RESOURCES = {
    "smoke": {"threads": 1, "mem_mb": 2000, "runtime": 10, "gpu": 0},
    "default": {"threads": 1, "mem_mb": 4000, "runtime": 60, "gpu": 0},
    "paper": {"threads": 8, "mem_mb": 32000, "runtime": 720, "gpu": 1},
}


def heavy_threads(wildcards):
    return RESOURCES[SCALE]["threads"]


def heavy_mem_mb(wildcards, attempt):
    return RESOURCES[SCALE]["mem_mb"] * attempt


def heavy_runtime(wildcards, attempt):
    return RESOURCES[SCALE]["runtime"] * attempt


def heavy_gpus(wildcards):
    return RESOURCES[SCALE]["gpu"]
