"""Kernel estimators of Cauchy–Schwarz (CS) quantities, as in the official `loss_cs.py`.

Every function accepts a single sample (N, D) or a batch of models (M, N, D) and returns a
scalar or an (M,) tensor, so the many models of one training job share one call.
All logarithms are base 2 (bits), as in the official code.

- `gaussian_gram`: exp(−‖a_i−b_j‖²/(2σ²)).
- `cs_divergence`: the conditional CS divergence D_CS(p(y|x) ‖ p(ŷ|x)) (paper Prop. 1, Eq. 18),
  with the official code's row weights w_j = 1/Σ_i K_ji² (`row_weight="code"`) or the slides'
  possible reading w_j = 1/(Σ_i K_ji)² (`row_weight="slides"`; unverified which one the paper means).
- `cs_qmi`: the CS quadratic mutual information (Prop. 2), optionally normalised by
  √I(x;x)·√I(t;t) as the training loss of the official code does.
- `cs_divergence_unconditional`, `mmd_squared`: the plain CS divergence and the (biased) MMD²
  between two samples from the same three kernel means, used by the tests.
- `resolve_sigma`: a fixed σ (the official code: σ = 1) or the median rule of the unused branch
  of the official code (σ = scale × median squared pairwise distance, from HBaR's
  `sigma_estimation`; the factor 10 is taken from the protocol, unverified against the paper).
"""

from __future__ import annotations

import math

import torch

LOG2 = math.log(2.0)
_EPS = 1e-12


def _log2(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x) / LOG2


def _flat(x: torch.Tensor) -> torch.Tensor:
    """(N,) → (N, 1); (N, D) and (M, N, D) unchanged."""
    if x.dim() == 1:
        return x[:, None]
    return x


def sq_dists(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pairwise squared Euclidean distances, (..., N, D) × (..., K, D) → (..., N, K), clamped at 0.

    ‖a‖² + ‖b‖² − 2 a·b as one fused multiply-add (`addmm`/`baddbmm`): fewer passes over the
    N×K matrix, forward and backward, than separate operations (the same values up to rounding)."""
    if a.shape[-1] == 1 and b.shape[-1] == 1:  # scalars (targets): a direct difference, cheaper than a matmul
        return (a - b.transpose(-1, -2)).square()
    a2 = (a * a).sum(-1, keepdim=True)
    b2 = a2 if b is a else (b * b).sum(-1, keepdim=True)
    norms, bt = a2 + b2.transpose(-1, -2), b.transpose(-1, -2)
    if a.dim() == 2:
        return torch.addmm(norms, a, bt, alpha=-2.0).clamp_min(0.0)
    if a.dim() == 3 and b.dim() == 3:
        return torch.baddbmm(norms, a, bt, alpha=-2.0).clamp_min(0.0)
    return (norms - 2.0 * a @ bt).clamp_min(0.0)


def median_sigma(x: torch.Tensor, scale: float = 10.0) -> torch.Tensor:
    """σ = scale × median squared pairwise distance (lower triangle), floored at 1e-2; no gradient."""
    x = _flat(x).detach()
    d = sq_dists(x, x)
    n = d.shape[-1]
    rows, cols = torch.tril_indices(n, n, offset=-1)
    med = torch.quantile(d[..., rows, cols], 0.5, dim=-1).clamp_min(1e-2)  # as np.median (mean of the middle two)
    return scale * med


def resolve_sigma(x: torch.Tensor, sigma: float | str, median_scale: float = 10.0) -> torch.Tensor | float:
    """A fixed kernel width, or the median rule (per model) when `sigma == "median"`."""
    if sigma == "median":
        return median_sigma(x, median_scale)
    return float(sigma)


def gaussian_gram(a: torch.Tensor, b: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """k(a_i, b_j) = exp(−‖a_i − b_j‖² / (2σ²)); σ may be a scalar or one per model (M,)."""
    a, b = _flat(a), _flat(b)
    if isinstance(sigma, (int, float)):  # one scale factor: a multiply instead of a negation and a division
        return torch.exp(sq_dists(a, b) * (-0.5 / (float(sigma) * float(sigma))))
    s = torch.as_tensor(sigma, dtype=a.dtype, device=a.device)
    if s.dim() == 1:
        s = s[:, None, None]
    return torch.exp(-sq_dists(a, b) / (2.0 * s * s))


def cs_divergence(
    x: torch.Tensor,
    y: torch.Tensor,
    y_hat: torch.Tensor,
    sigma: float | str = 1.0,
    row_weight: str = "code",
    median_scale: float = 10.0,
    kx: torch.Tensor | None = None,
    wkx: torch.Tensor | None = None,
    y_term: torch.Tensor | None = None,
) -> torch.Tensor:
    """Conditional CS divergence between p(y|x) and p(ŷ|x), in bits (the CS-IB prediction term).

    D = log₂ Σ_j w_j Σ_i K_ji L1_ji + log₂ Σ_j w_j Σ_i K_ji L2_ji − 2 log₂ Σ_j w_j Σ_i K_ji L21_ji,
    K = k(x,x), L1 = k(y,y), L2 = k(ŷ,ŷ), L21 = k(ŷ,y). One σ for x, y and ŷ, as in the code.
    Zero when ŷ = y; not guaranteed non-negative for finite samples. `kx`: k(x,x) if already
    computed (models trained on the same minibatch share it); `wkx`: the row-weighted w_j·K_ji
    (`weighted_x_gram`) and `y_term`: the first (ŷ-free) term, likewise shared.
    """
    x = _flat(x)
    if y.dim() == x.dim() - 1:  # scalar targets (…, N) → (…, N, 1)
        y, y_hat = y.unsqueeze(-1), y_hat.unsqueeze(-1)
    sy = resolve_sigma(y, sigma, median_scale)
    if wkx is None:
        k = gaussian_gram(x, x, resolve_sigma(x, sigma, median_scale)) if kx is None else kx
        wkx = weighted_x_gram(k, row_weight)
    term = lambda lmat: (wkx * lmat).sum((-1, -2))  # noqa: E731  Σ_j w_j Σ_i K_ji L_ji
    if y_term is None:
        y_term = _log2(term(gaussian_gram(y, y, sy)))
    l2 = gaussian_gram(y_hat, y_hat, sy)
    l21 = gaussian_gram(y_hat, y, sy)
    return y_term + _log2(term(l2)) - 2.0 * _log2(term(l21))


def weighted_x_gram(k: torch.Tensor, row_weight: str = "code") -> torch.Tensor:
    """w_j·K_ji, the x gram weighted by `cs_divergence`'s row weights (code: 1/Σ_i K_ji²; slides: 1/(Σ_i K_ji)²)."""
    if row_weight == "code":
        w = 1.0 / (k * k).sum(-1)
    elif row_weight == "slides":
        w = 1.0 / k.sum(-1) ** 2
    else:
        raise ValueError(f"row_weight must be 'code' or 'slides', got {row_weight!r}")
    return w.unsqueeze(-1) * k


def qmi_from_grams(k: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    n = k.shape[-1]
    tr = (k * q).sum((-1, -2)) / n**2  # tr(KQ)/N² (K, Q symmetric)
    marg = k.sum((-1, -2)) * q.sum((-1, -2)) / n**4  # 1ᵀK1·1ᵀQ1/N⁴
    cross = (k.sum(-1) * q.sum(-1)).sum(-1) / n**3  # 1ᵀKQ1/N³
    return _log2(tr) + _log2(marg) - 2.0 * _log2(cross)


def cs_qmi(
    x: torch.Tensor,
    t: torch.Tensor,
    sigma: float | str = 1.0,
    normalized: bool = True,
    median_scale: float = 10.0,
    kx: torch.Tensor | None = None,
    i_xx: torch.Tensor | None = None,
) -> torch.Tensor:
    """CS quadratic mutual information I_CS(x; t) in bits; normalised: I(x,t)/(√I(x,x)·√I(t,t)).

    Images must be flattened to (…, N, D) first, as the official code does per batch. `kx`, `i_xx`:
    k(x, x) and I(x; x) if already computed (shared by the models trained on one minibatch).
    """
    x, t = _flat(x), _flat(t)
    k = gaussian_gram(x, x, resolve_sigma(x, sigma, median_scale)) if kx is None else kx
    q = gaussian_gram(t, t, resolve_sigma(t, sigma, median_scale))
    i_xt = qmi_from_grams(k, q)
    if not normalized:
        return i_xt
    i_xx = (qmi_from_grams(k, k) if i_xx is None else i_xx).clamp_min(_EPS)
    i_tt = qmi_from_grams(q, q).clamp_min(_EPS)
    return i_xt / (i_xx.sqrt() * i_tt.sqrt())


def kernel_means(p: torch.Tensor, q: torch.Tensor, sigma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(mean k(p,p), mean k(q,q), mean k(p,q)): the three sums behind both CS and MMD."""
    return (
        gaussian_gram(p, p, sigma).mean((-1, -2)),
        gaussian_gram(q, q, sigma).mean((-1, -2)),
        gaussian_gram(p, q, sigma).mean((-1, -2)),
    )


def cs_divergence_unconditional(p: torch.Tensor, q: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """D_CS(P‖Q) = −2 log₂ cos(μ_P, μ_Q) of the kernel mean embeddings, in bits."""
    kpp, kqq, kpq = kernel_means(p, q, sigma)
    return _log2(kpp) + _log2(kqq) - 2.0 * _log2(kpq)


def mmd_squared(p: torch.Tensor, q: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Biased MMD² = ‖μ_P − μ_Q‖² of the same kernel mean embeddings."""
    kpp, kqq, kpq = kernel_means(p, q, sigma)
    return kpp + kqq - 2.0 * kpq
