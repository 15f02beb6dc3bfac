"""Flatten the runs table (one row per metrics.json) into the frames the claims and tables use."""

from __future__ import annotations

from functools import partial

import pandas as pd

from paperdag.claims import MissingRuns

POINT = ["arch", "d", "n"]


def _kind(runs: pd.DataFrame, kind: str) -> pd.DataFrame:
    if not len(runs) or "kind" not in runs or not (runs["kind"] == kind).any():
        raise MissingRuns(f"no '{kind}' runs")
    return runs[runs["kind"] == kind]


def layer_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (arch, d, n, layer), with the point's errors alongside the layer's bounds."""
    points = _kind(runs, "bounds")
    rows = []
    for rec in points.to_dict("records"):
        for layer in rec["layers"]:
            rows.append(
                {
                    **{
                        k: rec[k]
                        for k in POINT
                        + ["n_layers", "gen_mean", "gen_se", "gen_abs_mean", "ramp_gen_mean", "ramp_gen_se", "d0_closed_form"]
                    },
                    **layer,
                }
            )
    df = pd.DataFrame(rows).sort_values(POINT + ["layer"]).reset_index(drop=True)
    df["d"], df["n"] = df["d"].astype(int), df["n"].astype(int)
    df["tight_kl_joint"] = df["kl_joint"] / df["gen_mean"].abs()
    df["tight_kl_perw"] = df["kl_perw"] / df["gen_mean"].abs()
    df["tight_w"] = df["w_bound"] / df["ramp_gen_mean"].abs()
    return df


def point_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (arch, d, n) without the per-layer lists."""
    df = _kind(runs, "bounds").drop(columns=["layers"])
    return df.assign(d=df["d"].astype(int), n=df["n"].astype(int)).sort_values(POINT).reset_index(drop=True)


def _certified(g: pd.DataFrame, lower: pd.Series, pool: pd.DataFrame, at: int) -> bool:
    """The W2 upper proxy at `at` below the W1 lower end of every other layer of `pool`."""
    return bool((lower.loc[pool.index.drop(at)] > g.loc[at, "w1"]).all())


def funnel_frame(layers: pd.DataFrame) -> pd.DataFrame:
    """Per (arch, d, n): the funnel among hidden layers argmin E W1_l (the asserted one), the raw funnel
    over every layer, the funnel of W1 in units of each layer's own spread (`w1_norm`), the bottleneck
    layer, and whether each funnel is certified (its W2 upper proxy below the W1 lower end ‖A_l(μ̂−μ)‖
    of every other layer it is compared with)."""
    rows = []
    for key, g in layers.groupby(POINT):
        g = g.set_index("layer")
        lower = g["w1"].where(g["w1_exact"], g["w1_lower"])
        hidden = g.loc[(g.index > 0) & (g.index < g.index.max())]

        funnel = int(g["w1"].idxmin())
        certified = partial(_certified, g, lower)
        row = {
            **dict(zip(POINT, key)),
            "funnel": funnel,
            "certified": certified(g, funnel),
            "funnel_norm": int(g["w1_norm"].idxmin()) if "w1_norm" in g else -1,
            "funnel_hidden": -1,
            "certified_hidden": False,
            "bottleneck": -1,
        }
        if len(hidden):
            row["funnel_hidden"] = int(hidden["w1"].idxmin())
            row["certified_hidden"] = certified(hidden, row["funnel_hidden"])
            row["bottleneck"] = int(hidden["width"].idxmin())
        rows.append(row)
    return pd.DataFrame(rows)


def cases_frame(runs: pd.DataFrame, kind: str, channel: str | None = None) -> pd.DataFrame:
    """The `cases` lists of the sdpi/crosscheck runs as one table."""
    sub = _kind(runs, kind)
    if channel is not None:
        sub = sub[sub["channel"] == channel]
        if not len(sub):
            raise MissingRuns(f"no sdpi runs for channel '{channel}'")
    return pd.DataFrame([c for cases in sub["cases"] for c in cases])


def gibbs_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (network, n) of the Gibbs example, per-layer values as lists."""
    sub = _kind(runs, "gibbs")
    df = pd.DataFrame([p for points in sub["points"] for p in points])
    return df.sort_values(["network", "n"]).reset_index(drop=True)
