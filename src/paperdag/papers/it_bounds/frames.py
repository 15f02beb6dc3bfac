"""Flatten the runs table (one row per metrics.json) into the frames the claims and tables use."""

from __future__ import annotations

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


def funnel_frame(layers: pd.DataFrame) -> pd.DataFrame:
    """Per (arch, d, n): the funnel argmin_l E W1_l, the bottleneck layer, and whether the funnel is
    certified (its W2 upper proxy below the W1 lower end ‖A_l(μ̂−μ)‖ of every other layer)."""
    rows = []
    for key, g in layers.groupby(POINT):
        g = g.set_index("layer")
        funnel = int(g["w1"].idxmin())
        hidden = g.loc[(g.index > 0) & (g.index < g.index.max())]
        others = g.drop(index=funnel)
        upper_at_funnel = g.loc[funnel, "w1"]  # exact at the output, the W2 upper proxy elsewhere
        lower_others = others["w1"].where(others["w1_exact"], others["w1_lower"])
        rows.append(
            {
                **dict(zip(POINT, key)),
                "funnel": funnel,
                "funnel_hidden": int(hidden["w1"].idxmin()) if len(hidden) else -1,
                "bottleneck": int(hidden["width"].idxmin()) if len(hidden) else -1,
                "certified": bool((lower_others > upper_at_funnel).all()),
            }
        )
    return pd.DataFrame(rows)


def cases_frame(runs: pd.DataFrame, kind: str, channel: str | None = None) -> pd.DataFrame:
    """The `cases` lists of the sdpi/crosscheck runs as one table."""
    sub = _kind(runs, kind)
    if channel is not None:
        sub = sub[sub["channel"] == channel]
        if not len(sub):
            raise MissingRuns(f"no sdpi runs for channel '{channel}'")
    return pd.DataFrame([c for cases in sub["cases"] for c in cases])
