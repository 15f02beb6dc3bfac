"""The it_bounds claims (protocol §5; issues #16, #20), evaluated from the metrics the pipeline computed.

Thresholds come from config (`claims:`), fixed in advance from the protocol and from the rates the
bounds imply; nothing here knows a measured number. The paper is theoretical: "claims" are its
analytic statements checked on the Gaussian testbed and on the exact Gibbs example, plus the
protocol's numerical expectations (tightness, slopes, funnel), which are the project's reading of
the paper and partly unverified. Every asserted claim declares its negative control (the runs
transformed into the closest plausible failure of what it asserts, or a control run the pipeline
made: the `bottleneck_shrink` network) and, where the runs could be inadequate, its gates.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from paperdag.claims import GUARD, Claim, Control, Gate, MissingRuns, Outcome
from paperdag.papers.it_bounds import controls, gibbs_claims
from paperdag.papers.it_bounds.frames import POINT, cases_frame, funnel_frame, layer_frame

ALL = ("smoke", "default", "paper")
FULL = ("default", "paper")
# Protocol §3: numpy re-implementation (d = 20, widths 20→16→8→4→1, 4000 draws), not paper numbers.
REFERENCE = {
    10: (0.211, [1.045, 0.968, 0.702, 0.447, 0.288]),
    50: (0.0595, [0.201, 0.171, 0.100, 0.054, 0.024]),
    200: (0.0154, [0.050, 0.041, 0.021, 0.011, 0.003]),
}


def _where(row: pd.Series, cols: list[str]) -> str:
    return " ".join(f"{c}={row[c]}" for c in cols)


def _slope(x: np.ndarray, y: np.ndarray, se: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of log y on log x and its standard error from the points' own SEs (delta method)."""
    lx, ly, sly = np.log(x), np.log(y), se / y
    dx = lx - lx.mean()
    return float((dx * ly).sum() / (dx**2).sum()), float(np.sqrt(((dx**2) * sly**2).sum()) / (dx**2).sum())


def _output(runs: pd.DataFrame) -> pd.DataFrame:
    df = layer_frame(runs)
    return df[df["layer"] == df["n_layers"]]


# ---------------------------------------------------------------- Gaussian testbed checks
def bounds_hold(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df, k = layer_frame(runs), c["se_factor"]
    z = pd.DataFrame(
        {
            "kl_joint": (df["kl_joint"] - df["gen_mean"].abs()) / df["gen_se"],
            "kl_perw": (df["kl_perw"] - df["gen_mean"].abs()) / df["gen_se"],
            "w1_ramp": (df["w_bound"] - df["ramp_gen_mean"].abs()) / df["ramp_gen_se"],
        }
    )
    worst_col = z.min().idxmin()
    i = z[worst_col].idxmin()
    return Outcome(
        float(z.values.min()),
        bool((z >= -k).all().all()),
        f"min (bound − |gen|)/SE over {len(df)} (arch, d, n, layer) × 3 bounds; worst: {worst_col} at "
        f"{_where(df.loc[i], POINT + ['layer'])}",
    )


def pointwise(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = layer_frame(runs)
    slack = np.minimum(df["kl_pointwise_slack_min"], df["w_pointwise_slack_min"])
    i = slack.idxmin()
    return Outcome(
        float(slack.min()),
        bool(slack.min() >= -c["pointwise_tol"]),
        f"min over every draw of per-W bound − |gen(W)| (KL and W1); worst at {_where(df.loc[i], POINT + ['layer'])}",
    )


def monotone(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = layer_frame(runs)
    worst = float(runs.loc[runs["kind"] == "bounds", "kl_max_increase"].max())
    means = df.groupby(POINT)["D_mean"].apply(lambda s: float(np.diff(s.to_numpy()).max()))
    return Outcome(
        worst,
        bool(worst <= c["mono_tol"] and means.max() <= c["mono_tol"]),
        f"largest D_(l+1)(W) − D_l(W) over every draw of {len(means)} points; largest increase of E D_l: {means.max():.3g}",
    )


def d0_closed(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = layer_frame(runs)
    d0 = df[df["layer"] == 0]
    z = (d0["D_mean"] - d0["d0_closed_form"]).abs() / d0["D_se"]
    return Outcome(
        float(z.max()),
        bool(z.max() <= c["se_factor"]),
        f"max |E D_0 (Monte Carlo) − (−d/2·ln(1−1/n))| / SE over {len(d0)} points",
    )


def tightness_band(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    out = _output(runs)
    out = out[out["n"] <= c["tightness_band_max_n"]]
    if not len(out):
        raise MissingRuns(f"no runs with n ≤ {c['tightness_band_max_n']}")
    t = out["tight_kl_joint"]
    inside = (t >= c["tightness_min"]) & (t <= c["tightness_max"])
    bad = [" ".join(map(str, r)) for r in out.loc[~inside, POINT].itertuples(index=False)]
    return Outcome(
        float(t.max()),
        bool(inside.all()),
        f"output-layer joint-KL bound/|gen| at n ≤ {c['tightness_band_max_n']} from {t.min():.3g} to {t.max():.3g}; "
        f"{int(inside.sum())}/{len(t)} inside" + (f"; outside: {', '.join(bad)}" if bad else ""),
    )


def _rate_fits(c: dict[str, Any], runs: pd.DataFrame) -> list[tuple[str, int, float, float, int]]:
    """Per (arch, d): slope of log(bound/|gen|) on log n over n ≥ k·d², its SE, and the number of points."""
    out, fits = _output(runs), []
    for (arch, d), g in out.groupby(["arch", "d"]):
        g = g[g["n"] >= c["tightness_rate_min_n_per_d2"] * d**2]
        if len(g) < c["tightness_rate_min_points"] or (g["gen_mean"] <= 0).any():
            continue
        ratio = g["kl_joint"] / g["gen_mean"]
        se = ratio * np.hypot(g["kl_joint_se"] / g["kl_joint"], g["gen_se"] / g["gen_mean"])
        slope, slope_se = _slope(g["n"].to_numpy(float), ratio.to_numpy(float), se.to_numpy(float))
        fits.append((arch, int(d), slope, slope_se, len(g)))
    if not fits:
        raise MissingRuns(
            f"no (arch, d) with {c['tightness_rate_min_points']} values of n ≥ {c['tightness_rate_min_n_per_d2']:g}·d²"
        )
    return fits


def tightness_rate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    fits = _rate_fits(c, runs)
    off = [abs(s - c["tightness_rate"]) for _, _, s, _, _ in fits]
    worst = fits[int(np.argmax(off))]
    se = max(f[3] for f in fits)
    return Outcome(
        float(worst[2]),
        bool(max(off) <= c["tightness_rate_tol"]),
        "slope of log(bound/|gen|) on log n, n ≥ "
        + f"{c['tightness_rate_min_n_per_d2']:g}·d²: "
        + ", ".join(f"{a} d={d}: {s:.3f} ± {e:.3f} ({k} n)" for a, d, s, e, k in fits),
        spread=se,
        margin_se=float((c["tightness_rate_tol"] - max(off)) / max(se, 1e-12)),
    )


def _resolved(fits: list[tuple[float, float]], lo: float, hi: float, c: dict[str, Any]) -> Outcome:
    """Gate: every fitted slope is resolved, i.e. its SE is small or it lies k·SE or more from the band's edges."""
    unresolved = [(s, e) for s, e in fits if e > c["slope_se_max"] and min(abs(s - lo), abs(s - hi)) < c["se_factor"] * e]
    worst = max(e for _, e in fits)
    return Outcome(
        worst,
        not unresolved,
        f"largest slope SE; {len(unresolved)} of {len(fits)} slopes neither have SE ≤ "
        f"{c['slope_se_max']:g} nor lie {c['se_factor']:g}·SE from the band's edges",
    )


def rate_se_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    lo, hi = c["tightness_rate"] - c["tightness_rate_tol"], c["tightness_rate"] + c["tightness_rate_tol"]
    return _resolved([(f[2], f[3]) for f in _rate_fits(c, runs)], lo, hi, c)


def _decay_fits(c: dict[str, Any], runs: pd.DataFrame) -> tuple[list[tuple[str, float, float]], list[str]]:
    """Log-log slopes of the output bound and of the error per (arch, d), over n ≤ slope_max_n."""
    fits, bad = [], []
    out = _output(runs)
    for (arch, d), g in out[out["n"] <= c["slope_max_n"]].groupby(["arch", "d"]):
        if len(g) < 2:
            raise MissingRuns(f"fewer than two n for {arch} d={d}")
        for what, y, se in (("bound", g["kl_joint"], g["kl_joint_se"]), ("gen", g["gen_mean"], g["gen_se"])):
            if (y <= 0).any():
                bad.append(f"{what} {arch} d={d}: E gen ≤ 0 at some n, no log-log fit")
                continue
            slope, slope_se = _slope(g["n"].to_numpy(float), y.to_numpy(float), se.to_numpy(float))
            fits.append((f"{what} {arch} d={d}", slope, slope_se))
    return fits, bad


def slopes(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    fits, bad = _decay_fits(c, runs)
    k = c["se_factor"]
    bad += [f"{name}: {s:.3f} ± {e:.3f}" for name, s, e in fits if not c["slope_min"] - k * e <= s <= c["slope_max"] + k * e]
    if not fits:
        return Outcome("no fit", False, "; ".join(bad))
    values = [s for _, s, _ in fits]
    return Outcome(
        float(max(values)),
        not bad,
        f"slopes from {min(values):.3f} to {max(values):.3f}" + (f"; outside: {'; '.join(bad)}" if bad else ""),
    )


def slope_se_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    fits, _ = _decay_fits(c, runs)
    return _resolved([(s, e) for _, s, e in fits], c["slope_min"], c["slope_max"], c)


def _funnel(c: dict[str, Any], runs: pd.DataFrame) -> pd.DataFrame:
    f = funnel_frame(layer_frame(runs))
    f = f[f["arch"] == c["funnel_arch"]]
    if not len(f):
        raise MissingRuns(f"no runs of architecture {c['funnel_arch']}")
    return f


def funnel(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    f = _funnel(c, runs)
    hit = f["funnel_hidden"] == f["bottleneck"]
    miss = f.loc[~hit].apply(lambda r: f"d={r['d']} n={r['n']} → layer {r['funnel_hidden']}", axis=1).tolist()
    raw = f["funnel"].value_counts().to_dict()
    norm = f["funnel_norm"].value_counts().to_dict()
    return Outcome(
        float(hit.mean()),
        bool(hit.all()),
        f"among hidden layers, funnel = bottleneck (layer {int(f['bottleneck'].iloc[0])}) at "
        f"{int(hit.sum())}/{len(f)} points"
        + (f"; elsewhere: {', '.join(miss)}" if miss else "")
        + f". Reported: raw argmin over all layers {raw}; argmin of W1 in units of each layer's spread {norm}",
    )


def funnel_certified_gate(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    f = _funnel(c, runs)
    return Outcome(
        float(f["certified_hidden"].mean()),
        bool(f["certified_hidden"].all()),
        "share of points where the hidden funnel's W2 upper proxy is below every other hidden layer's W1 lower end",
    )


# ---------------------------------------------------------------- SDPI checks
def contraction(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = pd.concat([cases_frame(runs, "sdpi", ch) for ch in ("dropout", "dropconnect", "noise")])
    worst = float(df["max_excess"].max())
    return Outcome(
        worst,
        bool(worst <= c["sdpi_tol"]),
        f"max over {len(df)} settings × pairs of D(PK‖QK)/D(P‖Q) − η; per channel: "
        + ", ".join(f"{ch} {g['max_excess'].max():.2g}" for ch, g in df.groupby("channel")),
    )


def tight_eta(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = pd.concat([cases_frame(runs, "sdpi", ch) for ch in ("dropout", "dropconnect")])
    gen = df[df["support"] == "generic"]
    gap = (gen["max_ratio"] - gen["eta"]).abs()
    binary = df[(df["support"] == "binary") & (df["d_in"] >= 2)]
    return Outcome(
        float(gap.max()),
        bool(gap.max() <= c["sdpi_tol"]),
        f"generic supports, {len(gen)} settings; binary supports {{±1}}^d_in with d_in ≥ 2 reach at most "
        f"{(binary['max_ratio'] / binary['eta']).max():.3f}·η",
    )


def refined(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    ch = cases_frame(runs, "sdpi", "refined")
    ch = ch[ch["channel"] == "refined"]
    worst = float(max((ch["max_ratio"] - ch["eta_product"]).max(), ch["max_layer_increase"].max()))
    return Outcome(
        worst,
        bool(worst <= c["sdpi_tol"]),
        f"max of max D_L/D_0 − Π η_k and of D_(k+1) − D_k over {len(ch)} dropout chains (exact enumeration)",
    )


def crosscheck_1d(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    out = cases_frame(runs, "crosscheck")
    dev = (out["w1_pot_1d"] - out["w1_exact_1d"]).abs() / out["output_scale"]
    exact = out["w1_exact_1d"] / out["output_scale"]
    return Outcome(
        float(dev.max()),
        bool(dev.max() <= c["w1_1d_tol"]),
        f"|POT 1-D W1 − exact quantile W1| / σ‖w‖ at the output, {len(out)} draws; exact W1 / σ‖w‖ from "
        f"{exact.min():.3g} to {exact.max():.3g}",
    )


def reference(c: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    df = layer_frame(runs)
    sub = df[(df["arch"] == c["reference_arch"]) & (df["d"] == c["reference_d"]) & df["n"].isin(REFERENCE)]
    if sub.empty:
        raise MissingRuns(f"no {c['reference_arch']} d={c['reference_d']} runs")
    parts = [
        f"n={n}: gen {g['gen_mean'].iloc[0]:.4g} (ref {REFERENCE[n][0]}), E D_l "
        + ", ".join(f"{v:.3g}" for v in g["D_mean"])
        + f" (ref {', '.join(map(str, REFERENCE[n][1]))})"
        for n, g in sub.groupby("n")
    ]
    gens = sub.drop_duplicates("n").set_index("n")["gen_mean"]
    rel = max(abs(gens[n] / REFERENCE[n][0] - 1) for n in gens.index)
    return Outcome(float(rel), None, "max relative gap of E gen to the protocol's re-implementation; " + "; ".join(parts))


# ---------------------------------------------------------------- the claims
def _gate(c: dict[str, Any], gid: str, threshold: str, fn: Callable[[dict[str, Any], pd.DataFrame], Outcome]) -> Gate:
    return Gate(gid, threshold, partial(fn, c))


def claims(cfg: dict[str, Any]) -> list[Claim]:
    """The claims of the report job's settings, thresholds from its `claims` block."""
    c = cfg["claims"]
    k = c["se_factor"]
    g = gibbs_claims
    gibbs_gates = (
        _gate(c, "grid_exact", f"|1 − P(Δ grid)| ≤ {c['gibbs_mass_tol']:g}", g.mass_gate),
        _gate(c, "learns", f"test loss ≤ {0.5 - c['gibbs_trivial_margin']:g} (constant predictor: 0.5)", g.learns_gate),
    )
    return [
        Claim(
            "bounds_hold",
            "Every bound (joint KL, per-W KL, W1) is at least the true generalisation error, at every layer, n and architecture",
            f"bound ≥ |gen| − {k:g}·SE everywhere",
            partial(bounds_hold, c),
            ALL,
            control=Control("every bound with its constant halved (too tight a bound)", controls.halve_bounds),
        ),
        Claim(
            "per_w_pointwise",
            "The per-W bounds hold for each W: |gen(W)| ≤ √(2s²D_l(W)) and ≤ ρ_l(W)·W1_l(W)",
            f"min slack ≥ −{c['pointwise_tol']:g}",
            partial(pointwise, c),
            ALL,
            control=Control("the per-W bounds with their constants halved, on every draw", controls.halve_pointwise),
        ),
        Claim(
            "kl_non_increasing",
            "D_l is non-increasing in the layer index l (data processing)",
            f"max increase ≤ {c['mono_tol']:g} (exact formula)",
            partial(monotone, c),
            ALL,
            control=Control("the layers read from the output back to the input", controls.reverse_layers),
        ),
        Claim(
            "d0_closed_form",
            "At l = 0, E D_0 = −(d/2)·ln(1−1/n) (the individual-sample MI bound)",
            f"|MC − closed form| ≤ {k:g}·SE",
            partial(d0_closed, c),
            ALL,
            control=Control("the first-order form d/(2n) in place of the exact one", controls.first_order_d0),
        ),
        Claim(
            "output_tightness",
            "The output-layer KL bound is within a small factor of the true error where the "
            f"protocol set the band (n ≤ {c['tightness_band_max_n']})",
            f"bound/|gen| in [{c['tightness_min']:g}, {c['tightness_max']:g}] at every (arch, d) and n ≤ "
            f"{c['tightness_band_max_n']}",
            partial(tightness_band, c),
            FULL,
            paper_value="protocol re-implementation: 1.8–2.6 (d = 20, n ≤ 200)",
            control=Control("the input-layer bound (no hierarchy) in place of the output's", controls.input_bound_at_output),
        ),
        Claim(
            "tightness_rate",
            "The output KL bound decays as n^(−1/2) and the error as n^(−1), so their ratio grows as n^(1/2) once n ≫ d²",
            f"slope of log(bound/|gen|) on log n over n ≥ {c['tightness_rate_min_n_per_d2']:g}·d² within "
            f"{c['tightness_rate']:g} ± {c['tightness_rate_tol']:g}, every (arch, d) with ≥ "
            f"{c['tightness_rate_min_points']} such n",
            partial(tightness_rate, c),
            FULL,
            gates=(_gate(c, "slope_resolved", f"slope SE ≤ {c['slope_se_max']:g} or {k:g}·SE from the band", rate_se_gate),),
            control=Control("a bound linear in D_l (2s²·D_l, decaying like the error)", controls.bound_linear_in_kl),
        ),
        Claim(
            "decay_slopes",
            f"Bound and true error both decay in n, between n^(−1/2) and n^(−1) (n ≤ {c['slope_max_n']}, the protocol's grid)",
            f"log-log slopes in [{c['slope_min']:g}, {c['slope_max']:g}] ± {k:g}·SE for each "
            f"(arch, d) over n ≤ {c['slope_max_n']}",
            partial(slopes, c),
            FULL,
            gates=(_gate(c, "slope_resolved", f"slope SE ≤ {c['slope_se_max']:g} or {k:g}·SE from the band", slope_se_gate),),
            control=Control("every n given its smallest n's error and bound (no decay)", controls.no_decay),
        ),
        Claim(
            "funnel_bottleneck",
            "With a bottleneck-then-expand (gain 3) network, the generalisation funnel "
            "argmin_l W1_l among the hidden layers is the bottleneck",
            "hidden-layer funnel = bottleneck at every d and n",
            partial(funnel, c),
            FULL,
            gates=(_gate(c, "certified", "the W1 bracket certifies the argmin at every point", funnel_certified_gate),),
            control=Control(
                f"the network {c['funnel_control_arch']} (the wide layer shrunk by gain 0.2, a run of its own) in its place",
                controls.substitute_arch(c["funnel_arch"], c["funnel_control_arch"]),
            ),
        ),
        Claim(
            "sdpi_contraction",
            "Dropout, DropConnect and Gaussian-noise layers contract KL by at most their SDPI coefficient η",
            f"measured ratio ≤ η + {c['sdpi_tol']:g}",
            partial(contraction, c),
            ALL,
            control=Control("dropout and DropConnect coefficients of a layer with one input fewer", controls.smaller_eta),
        ),
        Claim(
            "sdpi_attained",
            "The dropout and DropConnect coefficients are attained for generic weights and inputs",
            f"|max ratio − η| ≤ {c['sdpi_tol']:g}",
            partial(tight_eta, c),
            ALL,
            control=Control("the binary-support runs (colliding masks) counted as generic", controls.binary_as_generic),
        ),
        Claim(
            "refined_bound",
            "Refined bound: D_L ≤ (Π_k η_k)·D_0 along a chain of dropout layers",
            f"excess ≤ {c['sdpi_tol']:g} (exact enumeration)",
            partial(refined, c),
            ALL,
            control=Control("η from the keep probability instead of the drop probability", controls.keep_prob_chains),
        ),
        Claim(
            "gibbs_rate",
            "The Gibbs algorithm on a finite (binary-weight) parameter space generalises at O(1/n): exact "
            "error and output bound decay as n^(−1)",
            f"log-log slopes within {c['gibbs_rate']:g} ± {c['gibbs_rate_tol']:g}, every network",
            partial(g.rate, c),
            ALL,
            paper_value="O(1/n)",
            gates=(*gibbs_gates, _gate(c, "n_range", f"n spans ≥ {c['gibbs_min_decades']:g} decade(s)", g.decades_gate)),
            control=Control("errors and bounds decaying as n^(−1/2) (each times √(n/n_min))", controls.gibbs_slow_rate),
        ),
        Claim(
            "gibbs_bound_holds",
            "The hierarchical KL bound holds for the Gibbs algorithm at every layer, exactly",
            f"|gen| ≤ √(2s²·D_l) everywhere and per-hypothesis slack ≥ −{c['pointwise_tol']:g}",
            partial(g.bound_holds, c),
            ALL,
            gates=gibbs_gates,
            control=Control("the bound from the representation's KL with the label left out", controls.gibbs_without_label),
        ),
        Claim(
            "refined_bound_network",
            "Refined bound on noisy networks: D_l ≤ η_l·D_(l−1) + (1 − η_l)·D_Y layer by layer, "
            "hence D_L ≤ Πη·D_0 + (1 − Πη)·D_Y (exact, the Gibbs example's dropout networks)",
            f"excess ≤ {c['sdpi_tol']:g}·D_0",
            partial(g.refined_bound, c),
            ALL,
            gates=gibbs_gates,
            control=Control("η_l from the keep probability instead of the drop probability", controls.gibbs_keep_prob),
        ),
        Claim(
            "deeper_narrower",
            f"Deeper yet narrower generalises better: with the Gibbs algorithm, {c['gibbs_deep']} has "
            f"a smaller exact error and bound than {c['gibbs_wide']} with as many weights, at every n",
            "gen and output bound ratios (deep/wide) < 1 at every n",
            partial(g.deeper_narrower, c),
            ALL,
            gates=(*gibbs_gates, _gate(c, "equal_weights", "both networks have as many weights", g.equal_params_gate)),
            control=Control(
                f"{c['gibbs_wide']} in place of {c['gibbs_deep']} (no difference)",
                controls.gibbs_substitute(c["gibbs_deep"], c["gibbs_wide"]),
            ),
        ),
        Claim(
            "w1_output_crosscheck",
            "The exact 1-D W1 at the output matches a sample-based OT estimate (POT)",
            f"|deviation| ≤ {c['w1_1d_tol']:g}·σ‖w‖",
            partial(crosscheck_1d, c),
            FULL,
            kind=GUARD,
            control=Control("POT between two samples of the training law (misses the shift)", controls.null_sampler),
        ),
        Claim(
            "reference_numbers",
            "Testbed values against the protocol's numpy re-implementation (deep-narrow, d = 20)",
            "reported",
            partial(reference, c),
            FULL,
            paper_value="gen 0.211 / 0.0595 / 0.0154 at n = 10 / 50 / 200",
        ),
    ]
