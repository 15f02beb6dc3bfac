"""Score models for the VE diffusion: conservative (s = ∇ₓE) and unconstrained, trained by DSM.

Both use the denoiser parameterisation s(x, σ) = (F(x, σ) − x)/σ² and the same MLP
(hidden widths, SiLU), whose inputs are the preconditioned point c_in·x with
c_in = 1/√(σ² + σ_data²) (EDM's input scaling; σ_data² the data's mean squared coordinate),
log σ rescaled to [−1, 1] and a Fourier embedding of log σ: the protocol's calibration run.
They differ only in what the MLP outputs:

- unconstrained: F is the MLP's D-vector output; s is in general not a gradient field;
- conservative: the MLP outputs a scalar φ, and F = ∇ₓφ (autograd, `create_graph=True`),
  so s = ∇ₓE with E = (φ − ½‖x‖²)/σ², a gradient field by construction.

Many models (manifolds × seeds) are trained as one batched model (`paperdag.nn.BatchedMLP`);
model m sees only its own data set.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as Fn

from paperdag.nn import BatchedMLP
from paperdag.seeding import step_generator

KINDS = ("conservative", "unconstrained")


def fourier_embedding(log_sigma: torch.Tensor, n_freq: int, lo: float, hi: float) -> torch.Tensor:
    """[sin, cos] of log σ at n_freq octave-spaced frequencies spanning the range [lo, hi] of log σ."""
    span = max(hi - lo, 1e-6)
    freqs = math.pi / span * 2.0 ** torch.arange(n_freq, dtype=log_sigma.dtype, device=log_sigma.device)
    z = (log_sigma - lo)[..., None] * freqs
    return torch.cat([torch.sin(z), torch.cos(z)], dim=-1)


class BatchedScoreModel(nn.Module):
    """n_models score networks of one kind, evaluated on (M, N, D) points at (M, N) noise levels."""

    def __init__(
        self,
        kind: str,
        seeds: Sequence[int],
        dim: int,
        hidden: Sequence[int],
        n_freq: int,
        sigma_min: float,
        sigma_max: float,
        sigma_data: float,
    ) -> None:
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}; expected one of {KINDS}")
        self.kind, self.dim, self.n_freq, self.sigma_data = kind, dim, n_freq, sigma_data
        self.log_lo, self.log_hi = math.log(sigma_min), math.log(sigma_max)
        out = 1 if kind == "conservative" else dim
        self.net = BatchedMLP(seeds, [dim + 1 + 2 * n_freq, *hidden, out], activation=Fn.silu)

    @property
    def n_models(self) -> int:
        return self.net.n_models

    def _mlp(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        log_sigma = torch.log(sigma)
        emb = fourier_embedding(log_sigma, self.n_freq, self.log_lo, self.log_hi)
        level = (2 * (log_sigma - self.log_lo) / (self.log_hi - self.log_lo) - 1)[..., None]
        c_in = torch.rsqrt(sigma**2 + self.sigma_data**2)[..., None]
        return self.net(torch.cat([c_in * x, level, emb], dim=-1))

    def denoiser(self, x: torch.Tensor, sigma: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
        """F(x, σ): (M, N, D). For the conservative kind, F = ∇ₓφ (graph kept when asked)."""
        if self.kind == "unconstrained":
            return self._mlp(x, sigma)
        with torch.enable_grad():
            x_in = x if x.requires_grad else x.detach().requires_grad_(True)
            phi = self._mlp(x_in, sigma).sum()
            (grad,) = torch.autograd.grad(phi, x_in, create_graph=create_graph or x.requires_grad)
        return grad

    def score(self, x: torch.Tensor, sigma: torch.Tensor | float, create_graph: bool = False) -> torch.Tensor:
        """s(x, σ) = (F(x, σ) − x)/σ²."""
        sigma_t = torch.as_tensor(sigma, dtype=x.dtype).expand(x.shape[:-1])
        return (self.denoiser(x, sigma_t, create_graph) - x) / sigma_t[..., None] ** 2


class DSMTask(nn.Module):
    """Denoising score matching with λ(σ) = σ², σ log-uniform in [σ_min, σ_max].

    λ(σ)‖s(x̃, σ) + ε/σ‖² = ‖F(x̃, σ) − x₀‖²/σ² for x̃ = x₀ + σε (one loss per model).
    `data` is (M, steps·batch, D), a fresh stream per model: step t reads rows [t·batch, (t+1)·batch)
    of data[m], so no point is seen twice (the manifold is sampled, not a fixed training set).
    """

    def __init__(
        self,
        model: BatchedScoreModel,
        data: torch.Tensor,
        seeds: Sequence[int],
        batch: int,
        lr: float,
        steps: int,
        sigma_min: float,
        sigma_max: float,
    ) -> None:
        super().__init__()
        self.model = model
        self.register_buffer("data", data, persistent=False)
        self.seeds, self.batch, self.lr, self.steps = list(seeds), batch, lr, steps
        self.log_lo, self.log_hi = math.log(sigma_min), math.log(sigma_max)

    def _minibatch(self, step: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        sig, eps = [], []
        dev = self.data.device
        start = (step * self.batch) % self.data.shape[1]
        x0 = self.data[:, start : start + self.batch]
        for seed in self.seeds:  # drawn on the CPU, then moved: the same draws on any device
            gen = step_generator(seed, step)
            u = torch.rand(self.batch, generator=gen)
            sig.append(torch.exp(self.log_lo + u * (self.log_hi - self.log_lo)))
            eps.append(torch.randn(self.batch, self.data.shape[2], generator=gen))
        return x0, torch.stack(sig).to(dev), torch.stack(eps).to(dev)

    def training_loss(self, step: int) -> torch.Tensor:
        x0, sigma, eps = self._minibatch(step)
        noisy = x0 + sigma[..., None] * eps
        f = self.model.denoiser(noisy, sigma, create_graph=True)
        return (((f - x0) ** 2).sum(-1) / sigma**2).mean(-1)

    def configure_optimizer(self):
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=self.steps)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
