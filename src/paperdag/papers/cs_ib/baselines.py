"""Regularisers of the deep-IB baselines, batched over models (leading axis M).

All share the encoder/decoder of `model.py` and add β·(term) to the MSE; β = 0 is plain MSE.
The protocol rebuilt them from their reference code; the exact baseline settings used in
the CS-IB paper (β grids, HSIC widths) are **unverified**.

- VIB (Alemi et al. 2017): KL(N(μ, σ²) ‖ N(0, I)), summed over the K dimensions, batch mean (nats).
- NIB (Kolchinsky et al. 2019): the pairwise-distance KDE upper bound of I(X;T) for
  t = μ(x) + N(0, e^{logvar} I): Î = log N − mean_i logsumexp_j(−‖μ_i − μ_j‖² / (2 e^{logvar})),
  in nats as in `burklight/nonlinear-IB-PyTorch`; passed through h(r) = r, r² or exp(η r).
- HSIC bottleneck (HBaR, Wang et al. 2021): λ_x·nHSIC(x, t) − λ_y·nHSIC(y, t), Gaussian kernels
  with variance 2σ²·dim. Normalisation here is the centred-kernel-alignment form
  HSIC(a,b)/√(HSIC(a,a)·HSIC(b,b)); HBaR also ships a CCA-normalised variant (not used;
  which one the CS-IB paper ran is unverified).
"""

from __future__ import annotations

import math

import torch

from paperdag.papers.cs_ib.estimators import sq_dists


def vib_kl(mu: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) per sample, summed over dims, averaged over the batch: (..., N, K) → (...)."""
    var = std * std
    kl = 0.5 * (var + mu * mu - 1.0 - torch.log(var))
    return kl.sum(-1).mean(-1)


def nib_kde_mi(mu: torch.Tensor, logvar: torch.Tensor | float) -> torch.Tensor:
    """KDE upper bound of I(X;T) in nats for Gaussian noise of variance e^{logvar}: (..., N, K) → (...)."""
    n = mu.shape[-2]
    var = torch.exp(torch.as_tensor(logvar, dtype=mu.dtype, device=mu.device))
    if var.dim() == 1:
        var = var[:, None, None]
    lse = torch.logsumexp(-sq_dists(mu, mu) / (2.0 * var), dim=-1)
    return math.log(n) - lse.mean(-1)


def nib_h(r: torch.Tensor, h: str, eta: float = 1.0) -> torch.Tensor:
    """The NIB compression function: identity (`nib`), square (`squared`) or exp(η r) (`exp`)."""
    if h == "identity":
        return r
    if h == "squared":
        return r * r
    if h == "exp":
        return torch.exp(eta * r)
    raise ValueError(f"unknown NIB h-function {h!r}")


def _centred_gram(a: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian gram with variance 2σ²·dim (HBaR's `kernelmat`), double-centred: H K H."""
    dim = a.shape[-1]
    k = torch.exp(sq_dists(a, a) * (-0.5 / (sigma * sigma * dim)))
    return k - k.mean(-1, keepdim=True) - k.mean(-2, keepdim=True) + k.mean((-1, -2), keepdim=True)


def centred_gram(a: torch.Tensor, sigma: float) -> torch.Tensor:
    """The double-centred gram `hsic_normalized` uses for `a`, to compute once and share."""
    return _centred_gram(a, sigma)


def hsic_normalized(a: torch.Tensor, b: torch.Tensor, sigma: float = 1.0, ka: torch.Tensor | None = None) -> torch.Tensor:
    """Points (…, N, D), or scalar values (…, N) beside points of the other argument.

    HSIC(a, b)/√(HSIC(a,a)·HSIC(b,b)) with biased HSIC = tr(K̃ L̃)/(N−1)²: (..., N, D) → (...).
    `ka`: the centred gram of `a` if already computed (`centred_gram`)."""
    if a.dim() < b.dim():  # scalar targets (…, N) → (…, N, 1)
        a = a.unsqueeze(-1)
    if b.dim() < a.dim():
        b = b.unsqueeze(-1)
    ka = _centred_gram(a, sigma) if ka is None else ka
    return hsic_from_grams(ka, _centred_gram(b, sigma))


def hsic_from_grams(
    ka: torch.Tensor, kb: torch.Tensor, aa: torch.Tensor | None = None, bb: torch.Tensor | None = None
) -> torch.Tensor:
    """`hsic_normalized` from the two centred grams; `aa`, `bb`: their squared norms Σ K̃², if already computed."""
    ab = (ka * kb).sum((-1, -2))
    aa = (ka * ka).sum((-1, -2)) if aa is None else aa
    bb = (kb * kb).sum((-1, -2)) if bb is None else bb
    return ab / (aa * bb).clamp_min(1e-24).sqrt()
