"""f-distill formulas against independent computations (closed forms, numpy, scipy)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from paperdag.claims import MissingRuns
from paperdag.config import resolve_paper
from paperdag.papers.f_distill import weighting
from paperdag.papers.f_distill.claims import claims, kl_beats_rkl_tv_every_seed, not_worse_than_rkl
from paperdag.papers.f_distill.distill import Discriminator
from paperdag.papers.f_distill.divergences import DIVERGENCES, bin_normalise, density_ratio, f_value, normalised_weights
from paperdag.papers.f_distill.edm import MixtureTeacher, karras_grid, time_bins
from paperdag.papers.f_distill.toy import knn_precision_recall, mixture, mode_histogram
from paperdag.stage import PROJECT_ROOT

CFG = resolve_paper(__import__("yaml").safe_load((PROJECT_ROOT / "config.yaml").read_text()), "f_distill", "default")

R = torch.linspace(0.1, 20.0, 57, dtype=torch.float64)

CLOSED_FORM = {  # the paper's Table 1, written out independently
    "rkl": lambda r: np.ones_like(r),
    "sf": lambda r: 1 / (r + 1),
    "js": lambda r: r / (r + 1),
    "sh": lambda r: np.sqrt(r) / 4,
    "kl": lambda r: r,
    "jf": lambda r: r + 1,
}


@pytest.mark.parametrize("name", sorted(DIVERGENCES))
def test_h_matches_table_and_second_derivative_of_f(name: str) -> None:
    r = R.numpy()
    np.testing.assert_allclose(weighting(name, R).numpy(), CLOSED_FORM[name](r), rtol=1e-6)
    # h = f''(r)·r², with f'' by autograd on f (an independent route to the same weight)
    f2 = torch.stack([torch.autograd.functional.hessian(lambda x: f_value(name, x), ri.reshape(1)).reshape(()) for ri in R])
    np.testing.assert_allclose(weighting(name, R).numpy(), (f2 * R**2).numpy(), rtol=1e-5, atol=1e-6)


def test_f_is_convex_with_f1_zero() -> None:
    for name in DIVERGENCES:
        assert abs(float(f_value(name, torch.tensor(1.0)))) < 1e-6


def test_normalised_h_has_batch_mean_one() -> None:
    r = torch.rand(6, 300, generator=torch.Generator().manual_seed(0)) * 19.9 + 0.1
    h = normalised_weights(list(DIVERGENCES), r)
    np.testing.assert_allclose(h.mean(1).numpy(), 1.0, rtol=1e-5)
    assert torch.allclose(h[0], torch.ones(300))  # reverse-KL stays uniform


def test_density_ratio_clamps() -> None:
    r = density_ratio(torch.tensor([-50.0, 0.0, 50.0]), 10.0, 0.1, 20.0)
    assert r.tolist() == pytest.approx([0.1, 1.0, 20.0])


def test_bin_normalise_matches_numpy_bin_means() -> None:
    g = torch.Generator().manual_seed(1)
    r = torch.rand(2, 400, generator=g) * 5
    bins = torch.randint(0, 10, (2, 400), generator=g)
    bins[1][bins[1] == 3] = 4  # an empty bin keeps its previous EMA value
    ema = torch.full((2, 10), 7.0)
    out = bin_normalise(r, bins, ema, rate=0.0)
    rn, bn = r.numpy(), bins.numpy()
    for m in range(2):
        for k in range(10):
            sel = bn[m] == k
            if sel.any():
                np.testing.assert_allclose(out[m].numpy()[sel], rn[m][sel] / rn[m][sel].mean(), rtol=1e-5)
    assert ema[1, 3] == 7.0
    ema2 = torch.full((2, 10), 2.0)
    bin_normalise(r, bins, ema2, rate=0.5)
    assert float(ema2[0, 0]) == pytest.approx(0.5 * 2.0 + 0.5 * rn[0][bn[0] == 0].mean(), rel=1e-5)


def test_logistic_discriminator_recovers_gaussian_log_ratio() -> None:
    """real = N(0.5, 1) (label 1), fake = N(-0.5, 1.2²): logit → log p/q, within 0.2 RMSE on the bulk."""
    torch.manual_seed(0)
    disc = Discriminator([0], 1, [16, 16], sigma_data=1.0)
    opt = torch.optim.Adam(disc.parameters(), lr=5e-3)
    sigma = torch.full((1, 512), 0.01)
    g = torch.Generator().manual_seed(0)
    for _ in range(300):
        real = 0.5 + torch.randn(1, 512, 1, generator=g)
        fake = -0.5 + 1.2 * torch.randn(1, 512, 1, generator=g)
        loss = torch.nn.functional.softplus(disc(fake, sigma)).mean() + torch.nn.functional.softplus(-disc(real, sigma)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    x = torch.linspace(-1.5, 1.5, 101)  # the bulk of both densities
    exact = (-0.5 * (x - 0.5) ** 2) - (-0.5 * ((x + 0.5) / 1.2) ** 2 - math.log(1.2))
    with torch.no_grad():
        est = disc(x.reshape(1, -1, 1), torch.full((1, 101), 0.01))[0]
    rmse = float(((est - exact) ** 2).mean().sqrt())
    assert rmse < 0.2, rmse


def test_analytic_teacher_is_tweedie() -> None:
    means, w = mixture(8, 4.0)
    t = MixtureTeacher(means, w, 0.25)
    x = torch.randn(1, 64, 2) * 3
    for s in (0.05, 1.0, 5.0):
        xg = x.clone().requires_grad_(True)
        score = torch.autograd.grad(t.log_density(xg, s).sum(), xg)[0]
        np.testing.assert_allclose(t(x, torch.tensor(s)).numpy(), (x + s**2 * score).numpy(), rtol=1e-4, atol=1e-4)


def test_karras_grid_and_bins() -> None:
    g = karras_grid(1000, 0.002, 80.0)
    assert float(g[0]) == pytest.approx(0.002, rel=1e-4) and float(g[-1]) == pytest.approx(80.0, rel=1e-4)
    assert bool((g[1:] > g[:-1]).all())
    b = time_bins(torch.arange(2, 999), 2, 998, 10)
    assert b.min() == 0 and b.max() == 9 and torch.bincount(b).min() >= 99


def test_knn_precision_recall_bruteforce() -> None:
    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(60, 2)), rng.normal(size=(50, 2)) + 1.0

    def radius(a):
        d = np.linalg.norm(a[:, None] - a[None], axis=-1)
        return np.sort(d, axis=1)[:, 3]

    d = np.linalg.norm(fake[:, None] - real[None], axis=-1)
    prec = np.mean([(d[i] <= radius(real)).any() for i in range(50)])
    rec = np.mean([(d[:, j] <= radius(fake)).any() for j in range(60)])
    p, r = knn_precision_recall(torch.tensor(real)[None], torch.tensor(fake)[None], 3)
    assert float(p) == pytest.approx(prec) and float(r) == pytest.approx(rec)


def test_mode_histogram() -> None:
    means, _ = mixture(4, 4.0)
    x = torch.cat([means[0].expand(3, 2), means[2].expand(1, 2)])[None] + 0.1
    assert mode_histogram(x, means)[0].tolist() == [0.75, 0.0, 0.25, 0.0]


def _runs(tv_kl: list[float], tv_rkl: list[float]) -> pd.DataFrame:
    rows = []
    for div, tvs in (("kl", tv_kl), ("rkl", tv_rkl), ("js", tv_rkl)):
        for s, tv in enumerate(tvs):
            rows.append(
                dict(
                    task="toy",
                    init="normal",
                    divergence=div,
                    seed=s,
                    tv=tv,
                    fd=tv,
                    recall=0.9,
                    floor_fd=0.01,
                    floor_tv=0.01,
                    floor_recall_gap=0.02,
                )
            )
    return pd.DataFrame(rows)


def test_claims_pass_and_fail_on_synthetic_runs() -> None:
    assert kl_beats_rkl_tv_every_seed(_runs([0.08, 0.09, 0.07], [0.1, 0.12, 0.11])).passed is True
    assert kl_beats_rkl_tv_every_seed(_runs([0.08, 0.13, 0.07], [0.1, 0.12, 0.11])).passed is False
    assert not_worse_than_rkl("kl", 1.1)(_runs([0.30, 0.3, 0.3], [0.1, 0.1, 0.1])).passed is False
    assert not_worse_than_rkl("js", 1.1)(_runs([0.30, 0.3, 0.3], [0.1, 0.1, 0.1])).passed is True
    with pytest.raises(MissingRuns):
        kl_beats_rkl_tv_every_seed(_runs([], []))
    ids = [c.id for c in claims(CFG)]
    assert len(ids) == len(set(ids))
