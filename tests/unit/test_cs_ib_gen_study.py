"""The generalisation study: the batched ensemble trains, its information quantities are the
normalised CS-QMI, and its correlation statistics find a real relation and not a shuffled one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import yaml

from paperdag.claims import REPORT, evaluate_claims
from paperdag.config import resolve_paper
from paperdag.papers.cs_ib import spec
from paperdag.papers.cs_ib.claims import claims
from paperdag.papers.cs_ib.gen_study import Arch, EnsembleStudy, correlation, train_plain
from paperdag.stage import PROJECT_ROOT

CFG = resolve_paper(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()), "cs_ib", "default")


def _data(n: int = 96, d: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, (np.sin(x[:, 0]) + 0.5 * x[:, 1]).astype(np.float32)


def test_ensemble_trains_every_network_and_measures_them() -> None:
    x, y = _data()
    study = EnsembleStudy(x, y, [Arch(2, 8), Arch(3, 16)], [0, 1], batch=32, lr=3e-3)
    assert len(study.labels) == 4
    before = study.mse(torch.as_tensor(x), torch.as_tensor(y))
    train_plain(study, 150)
    after = study.mse(torch.as_tensor(x), torch.as_tensor(y))
    assert after.shape == (4,) and (after < 0.5 * before).all()
    ixt, ixt_y = study.information(torch.as_tensor(x), torch.as_tensor(y), 1.0)
    assert ixt.shape == ixt_y.shape == (4,) and np.isfinite(ixt).all() and np.isfinite(ixt_y).all()


def test_networks_with_the_same_seed_and_architecture_are_identical_whatever_their_neighbours() -> None:
    x, y = _data()
    alone = EnsembleStudy(x, y, [Arch(2, 8)], [1], batch=32, lr=3e-3)
    shared = EnsembleStudy(x, y, [Arch(2, 8), Arch(3, 16)], [0, 1], batch=32, lr=3e-3)
    torch.testing.assert_close(alone.mlps[0].layers[0].weight[0], shared.mlps[0].layers[0].weight[1])


def test_correlation_finds_a_monotone_relation_and_not_a_shuffled_one() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal(100)
    b = a + 0.5 * rng.standard_normal(100)
    real = correlation(a, b, n_perm=500)
    assert real["rho"] > 0.7 and real["p_perm"] < 0.01 and real["ci_low"] > 0.5
    assert abs(real["rho_shuffled"]) < 0.3  # the control: the same values, networks and gaps paired at random
    null = correlation(a, rng.permutation(b), n_perm=500)
    assert null["p_perm"] > 0.01 and null["ci_low"] < 0 < null["ci_high"] or abs(null["rho"]) < 0.3


def test_the_study_claim_reports_both_correlations() -> None:
    rng = np.random.default_rng(2)
    nets = [{"gap": float(g), "ixt": float(g + rng.normal()), "ixt_given_y": float(rng.normal())} for g in rng.normal(size=40)]
    study = {"dataset": "diamonds", "networks": nets}
    (res,) = [
        r
        for r in evaluate_claims(
            claims(spec.job_config(CFG, "report", {}), study), pd.DataFrame({"dataset": ["diamonds"]}), "default"
        )
        if r.id == "generalisation_study"
    ]
    assert res.status == REPORT and "I_CS(x;t):" in res.detail and "I_CS(x;t∣y):" in res.detail
