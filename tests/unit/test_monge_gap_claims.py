"""Every asserted Monge-gap claim passes on a good input and fails on its negative control,
and its convergence gate makes it inconclusive on a run that was still learning."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from paperdag.claims import CAUGHT, INCONCLUSIVE, PASS, evaluate_claims
from paperdag.config import resolve_paper
from paperdag.contract import paper_claims
from paperdag.stage import PROJECT_ROOT

CFG = resolve_paper(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()), "monge_gap", "default")
SETTINGS = [("gaussian", 2), ("gaussian", 8), ("brenier", 2), ("brenier", 8)]
# per method: L2-UVP (%), exact MG / displacement, Bures W2², variance ratio
GOOD = {"identity": (40.0, 0.01, 0.9, 1.5), "linear": (0.5, 0.01, 0.02, 1.0), "oracle": (0.0, 0.0, 0.01, 1.0),
        "mlp": (30.0, 0.2, 0.05, 0.98), "mlp_mg": (3.0, 0.01, 0.05, 1.0), "mlp_mg_lambda0.1": (5.0, 0.02, 0.05, 1.0),
        "resmlp": (8.0, 0.05, 0.04, 1.0), "resmlp_mg": (2.5, 0.01, 0.04, 1.0), "icnn": (1.5, 0.0, 0.03, 1.0)}
FLAT = {"step": [0, 500, 1000, 1499], "train_loss": [1, 1, 1, 1], "val_step": [0, 500, 1000, 1499], "val": [9.0, 3.1, 3.0, 3.0]}


def good_runs(**overrides: dict) -> pd.DataFrame:
    rows = []
    for benchmark, dim in SETTINGS:
        for method, (uvp, mg_rel, bures, var_ratio) in {**GOOD, **overrides}.items():
            if benchmark == "brenier" and method == "linear":
                uvp = 20.0  # the affine map is exact only between Gaussians
            lam = CFG["methods"][method].get("monge_gap")
            for seed in (0, 1, 2):
                rows.append({"benchmark": benchmark, "dim": dim, "method": method, "seed": seed, "l2_uvp": uvp,
                             "exact_mg_rel": mg_rel, "bures": bures, "bures_floor": 0.01, "var_ratio": var_ratio,
                             "bures_shrunk": bures + 0.3, "var_ratio_shrunk": 0.64 * var_ratio,
                             "settings.method.monge_gap": lam, "curve": FLAT})
    return pd.DataFrame(rows)


def results(runs: pd.DataFrame) -> dict:
    return {r.id: r for r in evaluate_claims(paper_claims("monge_gap", CFG), runs, "default")}


ASSERTED = ["mg_recovers_map", "mg_beats_mlp", "fit_not_sacrificed", "competitive_with_icnn", "icnn_baseline_valid",
            "guard_mlp_off_optimal", "guard_mlp_fits"]


@pytest.mark.parametrize("claim", ASSERTED)
def test_claim_passes_on_good_runs_and_its_negative_control_is_caught(claim: str) -> None:
    result = results(good_runs())[claim]
    assert result.status == PASS, result.detail
    assert result.negative_control["status"] == CAUGHT, result.negative_control


def test_every_asserted_claim_declares_a_control() -> None:
    asserted = [c for c in paper_claims("monge_gap", CFG) if c.threshold != "reported"]
    assert sorted(c.id for c in asserted) == sorted(ASSERTED)
    assert all(c.control is not None for c in asserted)


def test_a_map_worse_than_the_identity_does_not_recover_the_map() -> None:
    result = results(good_runs(mlp_mg=(45.0, 0.01, 0.05, 1.0)))["mg_recovers_map"]
    assert result.status == "fail" and "not beaten" in result.detail


def test_a_shrinking_map_sacrifices_the_fit() -> None:
    assert results(good_runs(mlp_mg=(3.0, 0.01, 0.05, 0.6)))["fit_not_sacrificed"].status == "fail"


def test_runs_still_learning_make_the_claims_inconclusive() -> None:
    runs = good_runs()
    runs["curve"] = [{**FLAT, "val": [9.0, 6.0, 4.5, 3.0]}] * len(runs)  # 33% change over the last fifth
    res = results(runs)
    assert res["mg_beats_mlp"].status == INCONCLUSIVE
    assert res["mg_beats_mlp"].gates[0]["id"] == "converged" and res["mg_beats_mlp"].gates[0]["status"] == "fail"
