"""CS-IB estimators and baseline regularisers against independent numpy/scipy/geomloss computations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from paperdag.papers.cs_ib import cs_divergence, cs_qmi
from paperdag.papers.cs_ib.baselines import hsic_normalized, nib_h, nib_kde_mi, vib_kl
from paperdag.papers.cs_ib.estimators import cs_divergence_unconditional, median_sigma, mmd_squared

torch.set_num_threads(1)


def _gram(a: np.ndarray, b: np.ndarray, sigma: float) -> np.ndarray:
    a = a.reshape(len(a), -1)
    b = b.reshape(len(b), -1)
    return np.exp(-cdist(a, b, "sqeuclidean") / (2 * sigma**2))


def _data(n: int = 40, d: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = x[:, 0] + 0.3 * torch.randn(n, generator=g, dtype=torch.float64)
    y_hat = 0.8 * x[:, 0] + 0.2 * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y, y_hat


def test_cs_divergence_of_identical_arguments_is_zero() -> None:
    x, y, _ = _data()
    assert abs(float(cs_divergence(x, y, y, 1.0))) < 1e-6
    xb, yb = x.expand(3, -1, -1), y.expand(3, -1)
    assert torch.allclose(cs_divergence(xb, yb, yb, 1.0), torch.zeros(3, dtype=x.dtype), atol=1e-6)


@pytest.mark.parametrize("row_weight", ["code", "slides"])
def test_cs_divergence_matches_loop_formula(row_weight: str) -> None:
    x, y, y_hat = _data(n=25, seed=1)
    xn, yn, hn = x.numpy(), y.numpy()[:, None], y_hat.numpy()[:, None]
    sigma = 0.7
    k = _gram(xn, xn, sigma)
    l1, l2, l21 = _gram(yn, yn, sigma), _gram(hn, hn, sigma), _gram(hn, yn, sigma)
    n = len(xn)
    terms = []
    for lmat in (l1, l2, l21):
        total = 0.0
        for j in range(n):
            w = 1.0 / sum(k[j, i] ** 2 for i in range(n)) if row_weight == "code" else 1.0 / sum(k[j, i] for i in range(n)) ** 2
            total += w * sum(k[j, i] * lmat[j, i] for i in range(n))
        terms.append(total)
    expected = math.log2(terms[0]) + math.log2(terms[1]) - 2 * math.log2(terms[2])
    got = float(cs_divergence(x, y, y_hat, sigma, row_weight=row_weight))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert abs(expected) > 1e-3  # the comparison is not trivially 0 = 0


def test_cs_divergence_is_nearly_non_negative_on_random_inputs() -> None:
    g = torch.Generator().manual_seed(3)
    values = [float(cs_divergence(torch.randn(64, 4, generator=g), torch.randn(64, generator=g), torch.randn(64, generator=g)))
              for _ in range(50)]
    assert min(values) >= -0.05


def test_normalized_cs_qmi_of_x_with_itself_is_one() -> None:
    x, _, _ = _data(n=64, d=8)
    assert float(cs_qmi(x, x, 1.0, normalized=True)) == pytest.approx(1.0, abs=1e-5)
    # the median rule gives a very wide kernel (σ = 10 × median squared distance): float64 needed here
    assert float(cs_qmi(x, x, "median", normalized=True)) == pytest.approx(1.0, abs=1e-5)


def test_cs_qmi_matches_matrix_formula() -> None:
    x, y, _ = _data(n=30, d=4, seed=2)
    t = torch.tanh(x @ torch.randn(4, 5, dtype=x.dtype, generator=torch.Generator().manual_seed(0)))
    k, q = _gram(x.numpy(), x.numpy(), 1.0), _gram(t.numpy(), t.numpy(), 1.0)
    n = len(k)
    one = np.ones(n)

    def qmi(a: np.ndarray, b: np.ndarray) -> float:
        return (math.log2(np.trace(a @ b) / n**2) + math.log2(one @ a @ one * (one @ b @ one) / n**4)
                - 2 * math.log2(one @ a @ b @ one / n**3))

    assert float(cs_qmi(x, t, 1.0, normalized=False)) == pytest.approx(qmi(k, q), rel=1e-9)
    expected_norm = qmi(k, q) / math.sqrt(qmi(k, k) * qmi(q, q))
    assert float(cs_qmi(x, t, 1.0, normalized=True)) == pytest.approx(expected_norm, rel=1e-9)
    assert 0 < expected_norm < 1


def test_unconditional_cs_is_minus_two_log_cosine_of_mean_embeddings() -> None:
    g = torch.Generator().manual_seed(4)
    p = torch.randn(50, 2, generator=g, dtype=torch.float64)
    q = torch.randn(70, 2, generator=g, dtype=torch.float64) + 0.7
    sigma = 1.3
    kpq, kpp, kqq = (_gram(a.numpy(), b.numpy(), sigma).mean() for a, b in ((p, q), (p, p), (q, q)))
    cosine = kpq / math.sqrt(kpp * kqq)
    assert float(cs_divergence_unconditional(p, q, sigma)) == pytest.approx(-2 * math.log2(cosine), rel=1e-9)


def test_mmd_from_kernel_sums_matches_geomloss_gaussian_up_to_one_half() -> None:
    from geomloss import SamplesLoss

    g = torch.Generator().manual_seed(5)
    p = torch.randn(60, 3, generator=g, dtype=torch.float64)
    q = torch.randn(40, 3, generator=g, dtype=torch.float64) * 1.5 + 0.5
    sigma = 0.8
    ours = float(mmd_squared(p, q, sigma))
    theirs = float(SamplesLoss("gaussian", blur=sigma, backend="tensorized")(p, q))
    assert theirs / ours == pytest.approx(0.5, rel=1e-6)


def test_median_sigma_is_scaled_median_squared_distance() -> None:
    x, _, _ = _data(n=20, d=3)
    d = cdist(x.numpy(), x.numpy(), "sqeuclidean")
    expected = 10 * np.median(d[np.tril_indices(20, -1)])
    assert float(median_sigma(x)) == pytest.approx(expected, rel=1e-9)


def test_vib_kl_matches_closed_form() -> None:
    mu = torch.tensor([[[0.5, -1.0], [0.0, 2.0]]], dtype=torch.float64)
    std = torch.tensor([[[1.0, 0.5], [2.0, 1.0]]], dtype=torch.float64)
    # KL(N(m, s²) || N(0,1)) = ½(s² + m² − 1 − ln s²) per dim
    per = [[0.5 * (1 + 0.25 - 1 - 0), 0.5 * (0.25 + 1 - 1 - math.log(0.25))],
           [0.5 * (4 + 0 - 1 - math.log(4)), 0.5 * (1 + 4 - 1 - 0)]]
    expected = np.mean([sum(r) for r in per])
    assert float(vib_kl(mu, std)[0]) == pytest.approx(expected, rel=1e-12)


def test_nib_kde_mi_matches_scipy_logsumexp() -> None:
    mu = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0], [3.0, 1.0]], dtype=torch.float64)
    logvar = -1.0
    d = cdist(mu.numpy(), mu.numpy(), "sqeuclidean")
    expected = math.log(4) - np.mean(logsumexp(-d / (2 * math.exp(logvar)), axis=1))
    assert float(nib_kde_mi(mu, logvar)) == pytest.approx(expected, rel=1e-12)
    r = torch.tensor(0.7)
    assert float(nib_h(r, "squared")) == pytest.approx(0.49)
    assert float(nib_h(r, "exp", eta=2.0)) == pytest.approx(math.exp(1.4))


def test_hsic_normalized_matches_centred_alignment() -> None:
    g = np.random.default_rng(6)
    a = g.normal(size=(15, 3))
    b = np.tanh(a[:, :1]) + 0.1 * g.normal(size=(15, 1))
    sigma, n = 1.0, 15
    h = np.eye(n) - np.ones((n, n)) / n
    ka = h @ np.exp(-cdist(a, a, "sqeuclidean") / (2 * sigma**2 * 3)) @ h
    kb = h @ np.exp(-cdist(b, b, "sqeuclidean") / (2 * sigma**2 * 1)) @ h
    expected = np.trace(ka @ kb) / math.sqrt(np.trace(ka @ ka) * np.trace(kb @ kb))
    got = float(hsic_normalized(torch.tensor(a), torch.tensor(b[:, 0]), sigma))
    assert got == pytest.approx(expected, rel=1e-9)
    assert float(hsic_normalized(torch.tensor(a), torch.tensor(a), sigma)) == pytest.approx(1.0, rel=1e-9)
