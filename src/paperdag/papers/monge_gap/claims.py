"""The Monge-gap claims: which methods they compare and their thresholds come from config
(`monge_gap.claims`), and each statement is written from the values it tests (λ included).

The paper's own experiment tables were not available to the protocol's authors; these
claims encode its qualitative statement (§1 of the protocol), not a paper number.
"""
from __future__ import annotations

from functools import partial
from typing import Any

import pandas as pd

from paperdag.claims import Claim, MissingRuns, Outcome

LAMBDA = "settings.method.monge_gap"  # the λ a run recorded, by value


def _runs_of(runs: pd.DataFrame, name: str, method: dict[str, Any] | None) -> pd.DataFrame:
    """The runs of config method `name`, checked by value against its settings (λ)."""
    if method is None or not len(runs):
        raise MissingRuns(f"no method '{name}' in config")
    sub = runs[runs["method"] == name]
    if "monge_gap" in method and len(sub):
        sub = sub[sub[LAMBDA] == method["monge_gap"]]
    if not len(sub):
        raise MissingRuns(f"no runs of method '{name}' with its configured settings")
    return sub


def _per_setting(runs: pd.DataFrame, cfg: dict[str, Any], role: str, metric: str, agg: str = "median") -> pd.Series:
    name = cfg["claims"][role]
    return _runs_of(runs, name, cfg["methods"].get(name)).groupby(["benchmark", "dim"])[metric].agg(agg)


def beats_plain(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    ratio = _per_setting(runs, cfg, "method", "l2_uvp") / _per_setting(runs, cfg, "plain", "l2_uvp")
    return Outcome(float(ratio.max()), bool((ratio <= cfg["claims"]["beats_plain_ratio"]).all()),
                   f"worst ratio at {ratio.idxmax()}; ratios: " + ", ".join(f"{v:.3f}" for v in ratio))


def fit_not_sacrificed(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    plain = _runs_of(runs, cfg["claims"]["plain"], cfg["methods"].get(cfg["claims"]["plain"]))
    spread = cfg["claims"]["fit_floor_spreads"] * plain.groupby(["benchmark", "dim"])["sinkhorn_floor"].std(ddof=0)
    excess = _per_setting(runs, cfg, "method", "sinkhorn") - _per_setting(runs, cfg, "plain", "sinkhorn") - spread
    ok = excess <= 0
    return Outcome(float(excess.max()), bool(ok.all()),
                   f"{int(ok.sum())}/{len(ok)} settings within; max excess over plain + floor spreads at {excess.idxmax()}")


def competitive_with_icnn(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    c = cfg["claims"]
    mg, icnn = _per_setting(runs, cfg, "method", "l2_uvp"), _per_setting(runs, cfg, "icnn", "l2_uvp")
    ok = mg <= c["icnn_factor"] * icnn + c["icnn_margin"]
    need = min(c["icnn_min_settings"], len(ok))
    return Outcome(int(ok.sum()), bool(ok.sum() >= need), f"{int(ok.sum())} of {len(ok)} settings (need {need})")


def icnn_baseline_valid(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    uvp = _per_setting(runs, cfg, "icnn", "l2_uvp")
    if ("gaussian", 2) not in uvp.index:
        raise MissingRuns("no ICNN run on gaussian d=2")
    value = float(uvp.loc[("gaussian", 2)])
    return Outcome(value, value <= cfg["claims"]["icnn_valid_max"], "median L2-UVP of ICNN-W2GN on the 2-D Gaussian pair")


def plain_off_optimal(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    rel = _per_setting(runs, cfg, "plain", "exact_mg_rel")
    return Outcome(float(rel.min()), bool((rel >= cfg["claims"]["off_optimal_min"]).all()), f"smallest at {rel.idxmin()}")


def plain_fits(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    ratio = _per_setting(runs, cfg, "plain", "sinkhorn") / _per_setting(runs, cfg, "plain", "sinkhorn_floor", "mean")
    return Outcome(float(ratio.max()), bool((ratio <= cfg["claims"]["fits_floor_factor"]).all()), f"worst at {ratio.idxmax()}")


def lambda_variant(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    a, b = _per_setting(runs, cfg, "lambda_variant", "l2_uvp"), _per_setting(runs, cfg, "method", "l2_uvp")
    wins = int((b <= a).sum())
    return Outcome(f"{cfg['claims']['method']} better in {wins}/{len(a)}", None, "median L2-UVP")


def residual_variant(cfg: dict[str, Any], runs: pd.DataFrame) -> Outcome:
    uvp = _per_setting(runs, cfg, "residual", "l2_uvp")
    return Outcome(float(uvp.median()), None, "median over settings of the residual MLP's median L2-UVP (no Monge gap)")


def _lam(cfg: dict[str, Any], role: str) -> str:
    method = cfg["methods"].get(cfg["claims"][role], {})
    return f"λ = {method['monge_gap']:g}" if "monge_gap" in method else "λ not configured"


def claims(cfg: dict[str, Any]) -> list[Claim]:
    """The claims of the report job's settings (`spec.job_config(cfg, "report", {})`)."""
    c = cfg["claims"]
    mg, plain, variant = _lam(cfg, "method"), _lam(cfg, "plain"), _lam(cfg, "lambda_variant")
    return [
        Claim("mg_beats_mlp", f"MLP + Monge gap ({mg}) recovers the OT map much better than the MLP fitted "
              f"without it ({plain})", f"median L2-UVP(MLP+MG) ≤ {c['beats_plain_ratio']:.3g} × MLP's, every setting",
              partial(beats_plain, cfg)),
        Claim("fit_not_sacrificed", f"The Monge gap ({mg}) does not sacrifice the fit to ν",
              f"S(MLP+MG) ≤ S(MLP) + {c['fit_floor_spreads']:g}×seed spread of the ν-vs-ν floor, every setting",
              partial(fit_not_sacrificed, cfg)),
        Claim("competitive_with_icnn", f"MLP + Monge gap ({mg}) is competitive with ICNN (W2GN) baselines",
              f"L2-UVP ≤ {c['icnn_factor']:g}×ICNN + {c['icnn_margin']:g} point in ≥ {c['icnn_min_settings']} settings",
              partial(competitive_with_icnn, cfg)),
        Claim("icnn_baseline_valid", "The ICNN-W2GN port is a meaningful baseline (guard)",
              f"ICNN L2-UVP ≤ {c['icnn_valid_max']:g}% on the 2-D Gaussian pair", partial(icnn_baseline_valid, cfg)),
        Claim("guard_mlp_off_optimal", f"Without the Monge gap ({plain}) the plain MLP is really off-optimal (guard)",
              f"exact Monge gap ≥ {c['off_optimal_min']:.0%} of displacement cost, every setting",
              partial(plain_off_optimal, cfg)),
        Claim("guard_mlp_fits", "The plain MLP really fits ν (guard)",
              f"S(MLP) ≤ {c['fits_floor_factor']:g} × mean ν-vs-ν floor, every setting", partial(plain_fits, cfg)),
        Claim("lambda_variant", f"{mg} vs {variant} (reported variant)", "reported", partial(lambda_variant, cfg),
              scales=("paper",)),
        Claim("residual_variant", "Residual MLP without the Monge gap (reported variant)", "reported",
              partial(residual_variant, cfg)),
    ]
