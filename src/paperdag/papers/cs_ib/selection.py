"""Model selection on validation data, shared by the tables and the claims (no test metric is used)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from paperdag.claims import MissingRuns


def selected_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs of each (dataset, method) at the β with the lowest mean validation RMSE over seeds."""
    if runs.empty:
        raise MissingRuns("no runs")
    val = runs.groupby(["dataset", "method", "beta"], as_index=False)["val_rmse"].mean()
    best = val.loc[val.groupby(["dataset", "method"])["val_rmse"].idxmin(), ["dataset", "method", "beta"]]
    return runs.merge(best, on=["dataset", "method", "beta"])


def method_means(runs: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean, sd and count of `column` over seeds, per (dataset, method) at the selected β."""
    sel = selected_runs(runs)
    return sel.groupby(["dataset", "method"])[column].agg(["mean", "std", "count"]).reset_index()


def mean_curve(group: pd.DataFrame, column: str) -> np.ndarray:
    """Seed-mean of a list-valued column (e.g. the FGSM curve)."""
    return np.mean(np.stack([np.asarray(v, dtype=float) for v in group[column]]), axis=0)


def selected_beta(runs: pd.DataFrame, dataset: str, method: str) -> float:
    """The validation-selected β of one method on one dataset."""
    sel = selected_runs(runs[(runs["dataset"] == dataset) & (runs["method"] == method)])
    if not len(sel):
        raise MissingRuns(f"{dataset}/{method}")
    return float(sel["beta"].iloc[0])
