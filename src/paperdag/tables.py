"""Write a table as CSV, Markdown and LaTeX, deterministically."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from paperdag.io import write_text


def write_table(df: pd.DataFrame, stem: Path, float_format: str = "{:.4g}") -> list[Path]:
    """Write `stem`.csv, `stem`.md and `stem`.tex; return the three paths."""
    stem = Path(stem)
    fmt = lambda v: float_format.format(v) if isinstance(v, float) else v  # noqa: E731
    shown = df.map(fmt) if len(df) else df
    paths = [stem.with_suffix(".csv"), stem.with_suffix(".md"), stem.with_suffix(".tex")]
    write_text(paths[0], df.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    write_text(paths[1], shown.to_markdown(index=False) + "\n")
    write_text(paths[2], shown.to_latex(index=False, escape=True))
    return paths

