"""Synthetic OT benchmarks with a known ℓ2² optimal map (default scale).

- `gaussian`: N(m_μ, Σμ) → N(m_ν, Σν), random SPD covariances (random eigenbasis,
  eigenvalues in [eig_min, eig_max]); the true map is the closed-form Gaussian OT map.
- `brenier`: μ a mixture of Gaussians; T* = ∇ψ with ψ(x) = ½xᵀAx + Σ_k β_k softplus(w_kᵀx + b_k),
  A ≻ 0, β_k > 0. ψ is strictly convex, so T* is exactly the ℓ2² OT map from μ to ν = T*#μ (Brenier).

Both are then standardised with one common scalar scale s and per-side shifts:
x' = (x − m_x)/s, T'(x') = (T*(s x' + m_x) − m_y)/s, which is still a gradient of a convex
function, so T' is the OT map of the standardised pair.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from paperdag.papers.monge_gap.ot import gaussian_ot_map


def _random_spd(rng: np.random.Generator, d: int, lo: float, hi: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return (q * rng.uniform(lo, hi, size=d)) @ q.T


@dataclass
class Problem:
    """A standardised source sampler and its true OT map (float32 tensors)."""

    name: str
    dim: int
    _sample_raw: object
    _map_raw: object
    shift_x: torch.Tensor
    shift_y: torch.Tensor
    scale: float

    def sample_source(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return (self._sample_raw(n, gen) - self.shift_x) / self.scale

    def true_map(self, x: torch.Tensor) -> torch.Tensor:
        return (self._map_raw(x * self.scale + self.shift_x) - self.shift_y) / self.scale

    def sample_target(self, n: int, gen: torch.Generator) -> torch.Tensor:
        return self.true_map(self.sample_source(n, gen))


def _gaussian(d: int, rng: np.random.Generator, eig_min: float, eig_max: float):
    """Centred Gaussians: standardisation removes each side's mean, so a mean shift has no effect."""
    cov_a, cov_b = _random_spd(rng, d, eig_min, eig_max), _random_spd(rng, d, eig_min, eig_max)
    a, b = gaussian_ot_map(np.zeros(d), cov_a, np.zeros(d), cov_b)
    chol = torch.tensor(np.linalg.cholesky(cov_a), dtype=torch.float32)
    a_t, b_t = torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        return torch.randn(n, d, generator=gen) @ chol.T

    def true_map(x: torch.Tensor) -> torch.Tensor:
        return x @ a_t.T + b_t

    return sample, true_map


def _brenier(d: int, rng: np.random.Generator, n_components: int, n_ridges: int, ridge_scale: float):
    centers = torch.tensor(rng.standard_normal((n_components, d)) * 2.0, dtype=torch.float32)
    a = torch.tensor(_random_spd(rng, d, 0.5, 2.0), dtype=torch.float32)
    w = torch.tensor(rng.standard_normal((n_ridges, d)) * ridge_scale, dtype=torch.float32)
    b = torch.tensor(rng.standard_normal(n_ridges), dtype=torch.float32)
    beta = torch.tensor(rng.uniform(0.5, 2.0, size=n_ridges), dtype=torch.float32)

    def sample(n: int, gen: torch.Generator) -> torch.Tensor:
        comp = torch.randint(0, n_components, (n,), generator=gen)
        return centers[comp] + 0.7 * torch.randn(n, d, generator=gen)

    def true_map(x: torch.Tensor) -> torch.Tensor:  # ∇ψ
        return x @ a.T + (torch.sigmoid(x @ w.T + b) * beta) @ w

    return sample, true_map


_BUILDERS = {"gaussian": _gaussian, "brenier": _brenier}


def make_problem(name: str, dim: int, settings: dict, n_standardise: int = 20_000) -> Problem:
    """The benchmark `name` in dimension `dim`, the same for every training seed."""
    if name not in _BUILDERS:
        raise ValueError(f"benchmark '{name}' has no synthetic generator (allowed: {', '.join(_BUILDERS)})")
    rng = np.random.default_rng([dim, sorted(_BUILDERS).index(name), 2023])
    sample, true_map = _BUILDERS[name](dim, rng, **settings)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    x = sample(n_standardise, gen)
    y = true_map(x)
    scale = float(torch.sqrt((x.var(0).sum() + y.var(0).sum()) / (2 * dim)))
    return Problem(name, dim, sample, true_map, x.mean(0), y.mean(0), scale)
