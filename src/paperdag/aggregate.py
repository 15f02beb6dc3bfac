"""The shared tail of every paper: runs → tables, figures, claims.json."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from paperdag.claims import Claim, evaluate_claims, write_claims
from paperdag.runs import load_runs


def report_paper(*, paper: str, scale: str, metrics_files: Sequence[str], claims: Sequence[Claim],
                 claims_path: str | Path, summarize: Callable[[pd.DataFrame, Path], None], paper_dir: Path) -> pd.DataFrame:
    """Load every run's metrics, let the paper write its tables/figures, then evaluate its claims."""
    runs = load_runs(metrics_files)
    summarize(runs, Path(paper_dir))
    write_claims(Path(claims_path), paper, scale, evaluate_claims(claims, runs, scale))
    return runs
