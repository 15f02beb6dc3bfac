"""EDM pieces (Karras et al. 2022): the noise grid, the preconditioned denoiser, the analytic
mixture teacher. Every denoiser returns the x0-prediction D(x, σ).

Models are batched along a leading axis M (seeds × divergences), using `paperdag.nn.BatchedMLP`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.seeding import step_generator


def karras_grid(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> torch.Tensor:
    """n noise levels from sigma_min (index 0) to sigma_max (index n−1), spaced as in EDM (ρ = 7)."""
    i = torch.arange(n, dtype=torch.float64) / (n - 1)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return ((lo + i * (hi - lo)) ** rho).float()


def sample_grid_indices(shape: Sequence[int], lo: int, hi: int, gen: torch.Generator) -> torch.Tensor:
    """Uniform grid indices in [lo, hi] (the protocol's indices 2–998 of 1000)."""
    return torch.randint(lo, hi + 1, tuple(shape), generator=gen)


def time_bins(idx: torch.Tensor, lo: int, hi: int, n_bins: int) -> torch.Tensor:
    """The time bin (0..n_bins−1) of each grid index, equal-width in index."""
    return ((idx - lo) * n_bins // (hi - lo + 1)).clamp(0, n_bins - 1)


def edm_weight(sigma: torch.Tensor, sigma_data: float) -> torch.Tensor:
    """EDM loss weight λ(σ) = (σ² + σ_data²)/(σ·σ_data)² = σ⁻² + σ_data⁻²."""
    return sigma**-2 + sigma_data**-2


class Denoiser(nn.Module):
    """M preconditioned MLP denoisers: D(x, σ) = c_skip·x + c_out·F(c_in·x, c_noise)."""

    def __init__(self, seeds: Sequence[int], dim: int, hidden: Sequence[int], sigma_data: float) -> None:
        super().__init__()
        self.sigma_data = sigma_data
        self.net = BatchedMLP(seeds, [dim + 1, *hidden, dim], activation=nn.functional.silu)

    @property
    def n_models(self) -> int:
        return self.net.n_models

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """x: (M, N, d); sigma: (M, N) or broadcastable; returns the x0-prediction (M, N, d)."""
        sigma = sigma.expand(x.shape[:-1]).unsqueeze(-1)
        sd = self.sigma_data
        c_skip = sd**2 / (sigma**2 + sd**2)
        c_out = sigma * sd / (sigma**2 + sd**2).sqrt()
        c_in = 1 / (sigma**2 + sd**2).sqrt()
        c_noise = sigma.log() / 4
        return c_skip * x + c_out * self.net(torch.cat([c_in * x, c_noise], dim=-1))


def replicate(model: nn.Module, n: int) -> nn.Module:
    """A copy of a one-model batched module with its weights repeated n times (the student and fake
    score start from the teacher's weights, as in the paper)."""
    out = copy.deepcopy(model)
    for p in out.parameters():
        p.data = p.data.expand(n, *p.shape[1:]).clone()
    return out


class MixtureTeacher(nn.Module):
    """The exact x0-prediction of an isotropic Gaussian mixture noised by σ:
    p_σ = Σ_k π_k N(m_k, (s²+σ²)I), score = Σ_k γ_k(x)(m_k−x)/(s²+σ²), D = x + σ²·score."""

    def __init__(self, means: torch.Tensor, weights: torch.Tensor, std: float) -> None:
        super().__init__()
        self.register_buffer("means", means.float())
        self.register_buffer("log_w", weights.float().log())
        self.std = std

    def log_resp(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        var = (self.std**2 + sigma**2).unsqueeze(-1)  # (..., 1)
        d2 = ((x.unsqueeze(-2) - self.means) ** 2).sum(-1)  # (..., K)
        logits = self.log_w - 0.5 * d2 / var
        return logits - logits.logsumexp(-1, keepdim=True)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sigma = sigma.expand(x.shape[:-1])
        var = (self.std**2 + sigma**2).unsqueeze(-1)
        gamma = self.log_resp(x, sigma).exp()
        score = (gamma.unsqueeze(-1) * (self.means - x.unsqueeze(-2))).sum(-2) / var
        return x + sigma.unsqueeze(-1) ** 2 * score

    def log_density(self, x: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
        """log p_σ(x) (used by the tests of the discriminator's ratio)."""
        sigma = torch.as_tensor(sigma, dtype=x.dtype).expand(x.shape[:-1])
        var = (self.std**2 + sigma**2).unsqueeze(-1)
        d2 = ((x.unsqueeze(-2) - self.means) ** 2).sum(-1)
        dim = x.shape[-1]
        return (self.log_w - 0.5 * d2 / var - 0.5 * dim * torch.log(2 * math.pi * var)).logsumexp(-1)


class DenoiserTask(nn.Module):
    """EDM denoising score matching of a one-model denoiser (σ log-normal, weight λ(σ)), for teachers."""

    def __init__(self, model: Denoiser, sampler, batch: int, lr: float, p_mean: float, p_std: float, seed: int) -> None:
        super().__init__()
        self.model, self.sampler, self.batch, self.lr = model, sampler, batch, lr
        self.p_mean, self.p_std, self.seed = p_mean, p_std, seed

    def training_loss(self, step: int) -> torch.Tensor:
        g = step_generator(self.seed, step, 31)
        x0 = self.sampler(g, self.batch)[None]
        sigma = (self.p_mean + self.p_std * torch.randn(1, self.batch, generator=g)).exp()
        x_t = x0 + sigma.unsqueeze(-1) * torch.randn(x0.shape, generator=g)
        weight = edm_weight(sigma, self.model.sigma_data)
        return (weight * ((self.model(x_t, sigma) - x0) ** 2).mean(-1)).mean(1)

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


@torch.no_grad()
def heun_sample(
    denoiser: nn.Module, n: int, dim: int, steps: int, sigma_min: float, sigma_max: float, gen: torch.Generator
) -> torch.Tensor:
    """n samples of a one-model denoiser by EDM's deterministic Heun sampler (Karras et al. 2022,
    Alg. 1, no churn) on the ρ = 7 grid from sigma_max to sigma_min, then to 0: 2·steps − 1
    evaluations. The teacher's own multi-step samples, the reference a one-step student is measured against."""
    sigmas = torch.cat([karras_grid(steps, sigma_min, sigma_max).flip(0), torch.zeros(1)])
    x = torch.randn(1, n, dim, generator=gen) * sigmas[0]
    for s, s_next in zip(sigmas[:-1], sigmas[1:]):
        d = (x - denoiser(x, s.reshape(1, 1))) / s
        x_next = x + (s_next - s) * d
        if s_next > 0:
            d_next = (x_next - denoiser(x_next, s_next.reshape(1, 1))) / s_next
            x_next = x + (s_next - s) * 0.5 * (d + d_next)
        x = x_next
    return x[0]
