"""Metrics shared by the papers: Sinkhorn divergence, L2-UVP, Fréchet distance, kernel (KID) distance."""
from __future__ import annotations

import numpy as np
import torch


def sinkhorn_divergence(x: torch.Tensor, y: torch.Tensor, blur: float = 0.05, scaling: float = 0.9) -> torch.Tensor:
    """Debiased Sinkhorn divergence S_ε(x, y) with cost ½‖x−y‖² and ε = blur² (geomloss).

    Accepts point clouds (N, D) or batches of them (B, N, D); returns a scalar or (B,).
    Uses the tensorized backend (no pykeops needed).
    """
    from geomloss import SamplesLoss

    loss = SamplesLoss("sinkhorn", p=2, blur=blur, scaling=scaling, debias=True, backend="tensorized")
    return loss(x, y)


def l2_uvp(mapped: torch.Tensor, true_mapped: torch.Tensor) -> float:
    """Unexplained variance percentage: 100·E‖T̂(x) − T*(x)‖² / Var(ν), Var = trace of Cov(T*(x))."""
    err = ((mapped - true_mapped) ** 2).sum(-1).mean()
    var = true_mapped.var(dim=0, unbiased=False).sum()
    return float(100.0 * err / var)


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    feats = np.asarray(features, dtype=np.float64)
    return feats.mean(axis=0), np.cov(feats, rowvar=False)


def frechet_distance_from_stats(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½), the Fréchet distance between two Gaussians (as FID).

    scipy's `sqrtm`, with the usual guard: if the product is singular enough for the root to be
    non-finite, add 1e-6·I to both covariances (pytorch-fid's convention). Complex round-off
    in the root is dropped.
    """
    from scipy import linalg

    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def _frechet_distance_low_rank(a: np.ndarray, b: np.ndarray) -> float:
    """The same distance for few samples (n ≤ d), exactly, without a d × d `sqrtm`.

    With Σ = AᵀA (A the centred features / √(n−1), n × d), the nonzero eigenvalues of Σ_aΣ_b are
    the squared singular values of A_aA_bᵀ, so Tr((Σ_aΣ_b)^½) is the nuclear norm of that
    n_a × n_b matrix: a 2048 × 2048 `sqrtm` (minutes on a 2-core CPU) becomes an n × n SVD.
    """
    ca, cb = (a - a.mean(0)) / np.sqrt(len(a) - 1), (b - b.mean(0)) / np.sqrt(len(b) - 1)
    diff = a.mean(0) - b.mean(0)
    trace_sqrt = np.linalg.svd(ca @ cb.T, compute_uv=False).sum()
    return float(diff @ diff + (ca ** 2).sum() + (cb ** 2).sum() - 2.0 * trace_sqrt)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between the Gaussian fits of two feature sets (rows are samples), float64.

    FID when the features are Inception pool3 features. Uses `frechet_distance_from_stats`
    (scipy `sqrtm`) when both sets have more rows than dimensions, and the exact low-rank
    form otherwise (same value, far cheaper).
    """
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"frechet_distance needs two (n ≥ 2, d) arrays of the same d; got {a.shape} and {b.shape}")
    if min(len(a), len(b)) > a.shape[1]:
        return frechet_distance_from_stats(*gaussian_stats(a), *gaussian_stats(b))
    return _frechet_distance_low_rank(a, b)


def kernel_distance(features_a: np.ndarray, features_b: np.ndarray, degree: int = 3, coef: float = 1.0) -> float:
    """Unbiased squared MMD with the polynomial kernel k(x, y) = (xᵀy/d + coef)^degree: KID
    (Bińkowski et al. 2018) when the features are Inception pool3 features.

    Unlike the Fréchet distance it has no bias at small n (its expectation is the population
    value, 0 for two samples of one distribution), so a few dozen samples per set give an unbiased,
    if noisy, estimate; it can be slightly negative. float64, all pairs (no subsets).
    """
    a, b = np.asarray(features_a, dtype=np.float64), np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise ValueError(f"kernel_distance needs two (n ≥ 2, d) arrays of the same d; got {a.shape} and {b.shape}")
    d, m, n = a.shape[1], len(a), len(b)
    kaa, kbb, kab = ((a @ a.T) / d + coef) ** degree, ((b @ b.T) / d + coef) ** degree, ((a @ b.T) / d + coef) ** degree
    within_a = (kaa.sum() - np.trace(kaa)) / (m * (m - 1))
    within_b = (kbb.sum() - np.trace(kbb)) / (n * (n - 1))
    return float(within_a + within_b - 2.0 * kab.mean())
