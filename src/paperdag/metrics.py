"""Metrics shared by the papers: Sinkhorn divergence, L2-UVP, Fréchet distance."""
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


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """‖μ1−μ2‖² + Tr(Σ1 + Σ2 − 2(Σ1Σ2)^½), the Fréchet distance between two Gaussians (as FID)."""
    from scipy import linalg

    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1 @ sigma2, disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance_from_features(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between the Gaussian fits of two feature sets (rows are samples)."""
    return frechet_distance(*gaussian_stats(a), *gaussian_stats(b))
