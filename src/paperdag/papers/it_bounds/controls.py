"""Negative controls of the it_bounds claims: the real runs transformed into the closest plausible
failure of what each claim asserts (runs table in, runs table out; the input is never modified).

Each transform is named for the failure it builds; `claims.py` says which claim uses which.
Transforms never raise on missing runs (the library calls them outside its error handling): they
return what they can, and the claim's own check then reports the runs as missing (control missed).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from paperdag.papers.it_bounds.gibbs import SUBGAUSS
from paperdag.papers.it_bounds.sdpi import dropconnect_eta, dropout_eta

Record = dict[str, Any]


def _map(runs: pd.DataFrame, kind: str, fn: Callable[[Record], Record | None]) -> pd.DataFrame:
    """Apply fn to a deep copy of every record of this kind (None drops the record)."""
    out = []
    for rec in runs.to_dict("records"):
        if rec.get("kind") == kind:
            rec = fn(copy.deepcopy(rec))
        if rec is not None:
            out.append(rec)
    return pd.DataFrame(out)


def _layers(fn: Callable[[Record, Record], None]) -> Callable[[Record], Record]:
    def apply(rec: Record) -> Record:
        for layer in rec["layers"]:
            fn(rec, layer)
        return rec

    return apply


# ---------------------------------------------------------------- Gaussian testbed
def halve_bounds(runs: pd.DataFrame) -> pd.DataFrame:
    """Every bound with its constant halved (s = 1/4, half the ramp's Lipschitz constant): bounds made too tight."""

    def fn(rec: Record, layer: Record) -> None:
        for k in ("kl_joint", "kl_perw", "w_bound"):
            layer[k] *= 0.5

    return _map(runs, "bounds", _layers(fn))


def halve_pointwise(runs: pd.DataFrame) -> pd.DataFrame:
    """The per-draw slack of the halved per-W bounds (computed by the bounds job on every draw)."""

    def fn(rec: Record, layer: Record) -> None:
        layer["kl_pointwise_slack_min"] = layer["kl_pointwise_slack_half_min"]
        layer["w_pointwise_slack_min"] = layer["w_pointwise_slack_half_min"]

    return _map(runs, "bounds", _layers(fn))


def reverse_layers(runs: pd.DataFrame) -> pd.DataFrame:
    """The layers read from the output back to the input (D_l then grows with l)."""

    def fn(rec: Record) -> Record:
        for layer in rec["layers"]:
            layer["layer"] = rec["n_layers"] - layer["layer"]
        rec["kl_max_increase"] = rec["kl_max_decrease"]
        return rec

    return _map(runs, "bounds", fn)


def first_order_d0(runs: pd.DataFrame) -> pd.DataFrame:
    """The large-n approximation d/(2n) in place of the exact −(d/2)·ln(1 − 1/n)."""

    def fn(rec: Record) -> Record:
        rec["d0_closed_form"] = rec["d"] / (2.0 * rec["n"])
        return rec

    return _map(runs, "bounds", fn)


def input_bound_at_output(runs: pd.DataFrame) -> pd.DataFrame:
    """The input-layer (l = 0) bound in place of the output's: the bound without the hierarchy."""

    def fn(rec: Record) -> Record:
        first, last = rec["layers"][0], rec["layers"][-1]
        last["kl_joint"], last["kl_perw"] = first["kl_joint"], first["kl_perw"]
        return rec

    return _map(runs, "bounds", fn)


def bound_linear_in_kl(runs: pd.DataFrame) -> pd.DataFrame:
    """A bound linear in D_l (2s²·D_l, the fast-rate form) in place of √(2s²·D_l): it decays like the error."""

    def fn(rec: Record, layer: Record) -> None:
        layer["kl_joint"] = 2 * 0.25 * layer["D_mean"]
        layer["kl_joint_se"] = 2 * 0.25 * layer["D_se"]

    return _map(runs, "bounds", _layers(fn))


def no_decay(runs: pd.DataFrame) -> pd.DataFrame:
    """Every n given the error and bounds of the smallest n of its (arch, d): nothing decays."""
    bounds = runs[runs["kind"] == "bounds"]
    first = {(r["arch"], r["d"]): r for r in bounds.sort_values("n", ascending=False).to_dict("records")}

    def fn(rec: Record) -> Record:
        src = copy.deepcopy(first[(rec["arch"], rec["d"])])
        return {**src, "n": rec["n"]}

    return _map(runs, "bounds", fn)


def substitute_arch(target: str, stand_in: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The runs of architecture `stand_in` relabelled as `target` (whose own runs are left out)."""

    def control(runs: pd.DataFrame) -> pd.DataFrame:
        def fn(rec: Record) -> Record | None:
            if rec["arch"] == target:
                return None
            if rec["arch"] == stand_in:
                rec["arch"] = target
            return rec

        return _map(runs, "bounds", fn)

    return control


# ---------------------------------------------------------------- SDPI
def smaller_eta(runs: pd.DataFrame) -> pd.DataFrame:
    """Dropout and DropConnect coefficients of a layer with one input fewer (too small an η)."""

    def fn(rec: Record) -> Record:
        if rec["channel"] in ("dropout", "dropconnect"):
            for case in rec["cases"]:
                d_in = case["d_in"] - 1
                eta = (
                    dropout_eta(case["p"], d_in)
                    if case["channel"] == "dropout"
                    else dropconnect_eta(case["p"], d_in, case["d_out"])
                )
                case["eta"], case["max_excess"] = eta, case["max_ratio"] - eta
        return rec

    return _map(runs, "sdpi", fn)


def binary_as_generic(runs: pd.DataFrame) -> pd.DataFrame:
    """The dropout runs on binary supports (where masks collide and η is not reached) counted as generic."""

    def fn(rec: Record) -> Record:
        for case in rec["cases"]:
            if case.get("support") == "binary":
                case["support"] = "generic"
        return rec

    return _map(runs, "sdpi", fn)


def _keep_eta(p: float, d_in: int) -> float:
    return 1.0 - (1.0 - p) ** d_in


def keep_prob_chains(runs: pd.DataFrame) -> pd.DataFrame:
    """Chain coefficients computed with the keep probability in place of the drop probability (protocol pitfall)."""

    def fn(rec: Record) -> Record:
        for case in rec["cases"]:
            if case.get("channel") == "refined":
                case["eta_product"] = float(np.prod([_keep_eta(case["p"], w) for w in case["widths"][:-1]]))
        return rec

    return _map(runs, "sdpi", fn)


# ---------------------------------------------------------------- Gibbs example
def _points(fn: Callable[[Record], None]) -> Callable[[Record], Record]:
    def apply(rec: Record) -> Record:
        for point in rec["points"]:
            fn(point)
        return rec

    return apply


def gibbs_keep_prob(runs: pd.DataFrame) -> pd.DataFrame:
    """Layer coefficients η_l with the keep probability in place of the drop probability."""

    def fn(point: Record) -> None:
        point["etas"] = [_keep_eta(point["drop_prob"], w) for w in point["widths"][:-1]]

    return _map(runs, "gibbs", _points(fn))


def gibbs_slow_rate(runs: pd.DataFrame) -> pd.DataFrame:
    """Errors and bounds decaying as n^(−1/2) (the generic √(I/n) rate): each multiplied by √(n/n_min)."""
    n_min = min((p["n"] for pts in runs.loc[runs.get("kind") == "gibbs", "points"] for p in pts), default=1)

    def fn(point: Record) -> None:
        f = float(np.sqrt(point["n"] / n_min))
        point["gen"] *= f
        point["bound"] = [b * f for b in point["bound"]]

    return _map(runs, "gibbs", _points(fn))


def gibbs_without_label(runs: pd.DataFrame) -> pd.DataFrame:
    """Bounds from the representation's KL with the label left out, √(2s²·D(P_{T_l^i|W} ‖ P_{T_l'|W}))."""

    def fn(point: Record) -> None:
        point["bound"] = [float(np.sqrt(2 * SUBGAUSS**2 * max(d, 0.0))) for d in point["D_without_label"]]

    return _map(runs, "gibbs", _points(fn))


def gibbs_substitute(target: str, stand_in: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The Gibbs points of network `stand_in` relabelled as `target` (no difference between the two)."""

    def control(runs: pd.DataFrame) -> pd.DataFrame:
        def fn(rec: Record) -> Record | None:
            if rec["network"] == target:
                return None
            if rec["network"] == stand_in:
                extra = copy.deepcopy(rec)
                extra["network"] = target
                for point in extra["points"]:
                    point["network"] = target
                rec["_twin"] = extra
            return rec

        out = _map(runs, "gibbs", fn)
        twins = [r.pop("_twin") for r in out.to_dict("records") if isinstance(r.get("_twin"), dict)]
        return pd.concat([out.drop(columns="_twin"), pd.DataFrame(twins)], ignore_index=True)

    return control


# ---------------------------------------------------------------- crosscheck
def null_sampler(runs: pd.DataFrame) -> pd.DataFrame:
    """POT's W1 between two samples of the training law (a sampler that misses the train/test shift)."""

    def fn(rec: Record) -> Record:
        for case in rec["cases"]:
            case["w1_pot_1d"] = case["w1_pot_1d_null"]
        return rec

    return _map(runs, "crosscheck", fn)
