"""The shared report step of every paper: runs → tables, figures, claims.json."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from paperdag.claims import Claim, evaluate_claims, write_claims
from paperdag.runs import load_runs

if TYPE_CHECKING:
    from paperdag.stage import Job

Summarize = Callable[[pd.DataFrame, Path, "Job"], None]


def report_paper(job: Job, claims: Sequence[Claim], summarize: Summarize) -> pd.DataFrame:
    """Load every run the report job reads, let the paper write its tables and figures
    (`summarize(runs, paper_dir, job)`), then evaluate its claims into claims.json.

    The report stage's first output is claims.json, in the paper's results folder.
    """
    claims_path = Path(job.outputs[0])
    runs = load_runs([p for p in job.inputs if p.endswith("metrics.json")])
    summarize(runs, claims_path.parent, job)
    write_claims(claims_path, job.paper, job.scale, evaluate_claims(claims, runs, job.scale))
    return runs
