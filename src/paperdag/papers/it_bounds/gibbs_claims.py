"""Checks and gates of the Gibbs example (`gibbs.py`): exact values, so no standard errors anywhere."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from paperdag.claims import MissingRuns, Outcome
from paperdag.papers.it_bounds.frames import gibbs_frame


def _fit(n: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(np.log(n), np.log(y), 1)[0])


def rate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    """Log-log slope in n of the exact error and of the output-layer bound, per network, near the target."""
    df, parts, off = gibbs_frame(runs), [], []
    for net, g in df.groupby("network"):
        out_bound = g["bound"].map(lambda b: b[-1])
        for what, y in (("gen", g["gen"]), ("bound", out_bound)):
            if (y <= 0).any():
                parts.append(f"{what} {net}: ≤ 0 at some n")
                off.append(np.inf)
                continue
            s = _fit(g["n"].to_numpy(float), y.to_numpy(float))
            parts.append(f"{what} {net}: {s:.3f}")
            off.append(abs(s - c["gibbs_rate"]))
    worst = float(max(off))
    return Outcome(
        worst,
        bool(worst <= c["gibbs_rate_tol"]),
        f"|slope − ({c['gibbs_rate']:g})| at worst; log-log slopes in n: " + ", ".join(parts),
    )


def bound_holds(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    """|gen| ≤ √(2s²·D_l) at every layer, n and network, and |gen(w)| ≤ √(2s²·D_l(w)) for every hypothesis w."""
    df = gibbs_frame(runs)
    ratio = df.apply(lambda r: min(r["bound"]) / abs(r["gen"]) if r["gen"] else np.inf, axis=1)
    slack = df["pointwise_slack_min"].map(min)
    i = int(ratio.values.argmin())
    top = max(r["bound"][-1] / abs(r["gen"]) for _, r in df.iterrows())
    ok = bool((ratio >= 1.0).all() and slack.min() >= -c["pointwise_tol"])
    return Outcome(
        float(ratio.min()),
        ok,
        f"min over (network, n, layer) of bound/|gen| (at {df.loc[i, 'network']} n={df.loc[i, 'n']}); "
        f"largest output bound/|gen| {top:.3g}; "
        f"min per-hypothesis slack {slack.min():.3g}",
    )


def refined_bound(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    """D_l ≤ η_l·D_(l−1) + (1 − η_l)·D_Y at each layer and D_L ≤ Πη·D_0 + (1 − Πη)·D_Y, exact."""
    df = gibbs_frame(runs)
    worst, pure, where = -np.inf, 0, ""
    for _, r in df.iterrows():
        d, etas, dy = np.asarray(r["D"]), np.asarray(r["etas"]), r["D_Y"]
        step = d[1:] - (etas * d[:-1] + (1 - etas) * dy)
        chain = d[-1] - (etas.prod() * d[0] + (1 - etas.prod()) * dy)
        rel = max(step.max(), chain) / max(d[0], 1e-300)
        if rel > worst:
            worst, where = float(rel), f"{r['network']} n={r['n']}"
        pure += int(d[-1] > etas.prod() * d[0])
    return Outcome(
        worst,
        bool(worst <= c["sdpi_tol"]),
        f"max over layers, n and networks of (D_l − bound)/D_0 (at {where}); Π η·D_0 alone, without the "
        f"label's share, is exceeded at {pure}/{len(df)} points",
    )


def deeper_narrower(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    """The deep-narrow network's exact error and output bound below the wide-shallow network's at every n."""
    df = gibbs_frame(runs)
    deep, wide = (df[df["network"] == c[k]].set_index("n") for k in ("gibbs_deep", "gibbs_wide"))
    if not len(deep) or not len(wide):
        raise MissingRuns(f"need Gibbs runs of {c['gibbs_deep']} and {c['gibbs_wide']}")
    ns = deep.index.intersection(wide.index)
    gen_ratio = deep.loc[ns, "gen"] / wide.loc[ns, "gen"]
    bound_ratio = deep.loc[ns, "bound"].map(lambda b: b[-1]) / wide.loc[ns, "bound"].map(lambda b: b[-1])
    worst = float(max(gen_ratio.max(), bound_ratio.max()))
    return Outcome(
        worst,
        bool(worst < 1.0),
        f"max over n of gen(deep)/gen(wide) {gen_ratio.max():.3f} and of output bound(deep)/bound(wide) "
        f"{bound_ratio.max():.3f}; test loss deep {deep['test_loss'].iloc[-1]:.3f} vs wide "
        f"{wide['test_loss'].iloc[-1]:.3f} at n={ns.max()}",
    )


# ---------------------------------------------------------------- gates
def mass_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    lost = float((1.0 - gibbs_frame(runs)["delta_mass"]).abs().max())
    return Outcome(lost, bool(lost <= c["gibbs_mass_tol"]), "largest |1 − probability of the enumerated Δ grid|")


def decades_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    n = gibbs_frame(runs)["n"]
    span = float(np.log10(n.max() / n.min()))
    return Outcome(span, bool(span >= c["gibbs_min_decades"]), "decades of n the rate is fitted over")


def learns_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    worst = float(gibbs_frame(runs)["test_loss"].max())
    return Outcome(
        worst,
        bool(worst <= 0.5 - c["gibbs_trivial_margin"]),
        "largest test loss of the Gibbs predictor; the constant predictor's is 0.5",
    )


def equal_params_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = gibbs_frame(runs)
    params = {k: set(df.loc[df["network"] == c[k], "params"]) for k in ("gibbs_deep", "gibbs_wide")}
    ok = len(params["gibbs_deep"]) == 1 and params["gibbs_deep"] == params["gibbs_wide"]
    return Outcome(float(ok), ok, f"weights: deep {sorted(params['gibbs_deep'])}, wide {sorted(params['gibbs_wide'])}")
