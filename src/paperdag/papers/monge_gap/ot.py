"""Monge gap, exact Monge gap and the closed-form Gaussian OT map.

Cost convention, used everywhere in this package: the squared-Euclidean cost is
c(x, y) = ½‖x − y‖² (geomloss's p=2 convention; ott-jax's `SqEuclidean` has no ½, so
its λ and ε are twice ours); the Euclidean cost is c(x, y) = ‖x − y‖.
The entropic OT cost is the ott-jax quantity W_ε = ⟨P, C⟩ − ε H(P) (no debiasing).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from paperdag.sinkhorn import squared_distances

Cost = Literal["sqeuclidean", "euclidean"]


def cost_matrix(x: torch.Tensor, y: torch.Tensor, cost: Cost = "sqeuclidean") -> torch.Tensor:
    """Pairwise costs, (…, N, D) × (…, M, D) → (…, N, M)."""
    sq = squared_distances(x, y)
    if cost == "sqeuclidean":
        return 0.5 * sq
    if cost == "euclidean":
        return torch.sqrt(sq + 1e-12)
    raise ValueError(f"unknown cost '{cost}' (allowed: sqeuclidean, euclidean)")


def displacement_cost(x: torch.Tensor, mapped: torch.Tensor, cost: Cost = "sqeuclidean") -> torch.Tensor:
    """Mean cost of moving each x_i to T(x_i): (…, N, D) → (…)."""
    sq = ((x - mapped) ** 2).sum(-1)
    per_point = 0.5 * sq if cost == "sqeuclidean" else torch.sqrt(sq + 1e-12)
    return per_point.mean(-1)


def entropic_ot_cost(x: torch.Tensor, y: torch.Tensor, epsilon: torch.Tensor | float, cost: Cost = "sqeuclidean",
                     scaling: float = 0.9, fused: bool = False) -> torch.Tensor:
    """W_ε(x̂, ŷ) = ⟨P, C⟩ − εH(P) between uniform clouds (batched over a leading axis).

    `epsilon` may be a scalar or one value per batch element: each problem is solved in units of
    its own ε, so a model's value never depends on its batch partners (one ε-scaling schedule,
    from the batch's largest scaled cost). `paperdag.sinkhorn.entropic_ot` gives W_ε + 2ε·log n
    (geomloss's `debias=False` value, KL convention); `fused` runs its loop as one kernel.
    """
    from paperdag.sinkhorn import entropic_ot

    batched = x.dim() == 3
    if not batched:
        x, y = x.unsqueeze(0), y.unsqueeze(0)
    eps = torch.as_tensor(epsilon, dtype=x.dtype, device=x.device).reshape(-1).expand(x.shape[0])
    n, m = x.shape[1], y.shape[1]
    value = entropic_ot(x, y, lambda a, b: cost_matrix(a, b, cost), eps, scaling=scaling, fused=fused) \
        - eps * (np.log(n) + np.log(m))
    return value if batched else value[0]


def monge_gap(x: torch.Tensor, mapped: torch.Tensor, epsilon: torch.Tensor | float | None = None,
              cost: Cost = "sqeuclidean", eps_scale: float | None = None, scaling: float = 0.9,
              fused: bool = False) -> torch.Tensor:
    """Entropic Monge gap MG_ε(T) = mean_i c(x_i, T x_i) − W_ε(ρ̂, T#ρ̂), ρ̂ = the points x.

    With `epsilon=None`, ε = eps_scale × mean displacement cost, under a stop-gradient
    (as ott-jax's relative ε). Always ≥ ε·log n up to solver error (P = I/n is feasible).
    """
    if epsilon is None and eps_scale is None:
        raise ValueError("monge_gap needs epsilon or eps_scale (the method's mg_eps_scale in config)")
    disp = displacement_cost(x, mapped, cost)
    if epsilon is None:
        epsilon = (eps_scale * disp.detach()).clamp_min(1e-6)
    return disp - entropic_ot_cost(x, mapped, epsilon, cost, scaling, fused)


def exact_monge_gap(x: torch.Tensor | np.ndarray, mapped: torch.Tensor | np.ndarray, cost: Cost = "sqeuclidean") -> float:
    """MG_0(T) = mean_i c(x_i, T x_i) − min_σ mean_i c(x_i, T x_σ(i)) by optimal assignment (≥ 0)."""
    from scipy.optimize import linear_sum_assignment

    x_t, m_t = torch.as_tensor(np.asarray(x), dtype=torch.float64), torch.as_tensor(np.asarray(mapped), dtype=torch.float64)
    costs = cost_matrix(x_t, m_t, cost).numpy()
    rows, cols = linear_sum_assignment(costs)
    return float(np.trace(costs) / len(costs) - costs[rows, cols].mean())


def _sym_sqrt(mat: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((mat + mat.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def gaussian_ot_map(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray,
                    cov_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ℓ2² OT map between N(mean_a, cov_a) and N(mean_b, cov_b) as x ↦ A x + b.

    A = Σa^{-½}(Σa^{½} Σb Σa^{½})^{½} Σa^{-½} (symmetric PSD), b = mean_b − A mean_a.
    """
    sa = _sym_sqrt(np.asarray(cov_a, dtype=np.float64))
    sa_inv = np.linalg.inv(sa)
    a = sa_inv @ _sym_sqrt(sa @ np.asarray(cov_b, dtype=np.float64) @ sa) @ sa_inv
    a = (a + a.T) / 2
    return a, np.asarray(mean_b, dtype=np.float64) - a @ np.asarray(mean_a, dtype=np.float64)
