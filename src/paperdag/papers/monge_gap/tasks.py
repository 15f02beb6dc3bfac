"""Training objectives of the Monge-gap comparison, one batched task per method.

`MapTask`: T = MLP (plain or residual); loss_k = S_ε(T_k#μ̂, ν̂) + λ_k MG_c(T_k) on fresh
minibatches (the Monge gap's reference measure ρ is the source minibatch, as in ott-jax).
`W2GNTask`: ICNN potentials ψ, ψ̄ trained with the W2GN objective (Korotin et al. 2019)
E_μ ψ(x) + E_ν[⟨y, ∇ψ̄(y)⟩ − ψ(∇ψ̄(y))] + λ E_ν‖∇ψ(∇ψ̄(y)) − y‖², after identity pretraining.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from paperdag.metrics import sinkhorn_divergence
from paperdag.nn import BatchedMLP
from paperdag.papers.monge_gap.benchmarks import Problem
from paperdag.papers.monge_gap.models import BatchedICNN
from paperdag.papers.monge_gap.ot import monge_gap
from paperdag.seeding import step_generator


def draw_batches(problem: Problem, seeds: Sequence[int], step: int, n: int,
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Independent source and target minibatches per model, a function of (seed, step) only.

    Drawn on the CPU and then moved, so a GPU run sees the same minibatches as a CPU run.
    """
    x = torch.stack([problem.sample_source(n, step_generator(s, step, 0)) for s in seeds])
    y = torch.stack([problem.sample_target(n, step_generator(s, step, 1)) for s in seeds])
    return x.to(device), y.to(device)


class MapTask(nn.Module):
    """MLP maps fitted by Sinkhorn divergence, each with its own Monge-gap weight and cost."""

    def __init__(self, problem: Problem, seeds: Sequence[int], hidden: Sequence[int], *, residual: bool,
                 mg_weights: Sequence[float], costs: Sequence[str], training: dict, mg_eps_scale: float) -> None:
        super().__init__()
        self.problem, self.seeds, self.training = problem, list(seeds), training
        self.net = BatchedMLP(seeds, [problem.dim, *hidden, problem.dim], nn.functional.gelu, residual=residual)
        self.register_buffer("mg_weights", torch.tensor(mg_weights, dtype=torch.float32))
        self.costs, self.mg_eps_scale = list(costs), mg_eps_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_loss(self, step: int) -> torch.Tensor:
        x, y = draw_batches(self.problem, self.seeds, step, self.training["batch"], self.mg_weights.device)
        mapped = self.net(x)
        loss = sinkhorn_divergence(mapped, y, blur=self.training["fit_blur"], scaling=self.training["fit_scaling"])
        for cost in sorted(set(self.costs)):
            idx = [k for k, c in enumerate(self.costs) if c == cost and self.mg_weights[k] > 0]
            if idx:
                gap = monge_gap(x[idx], mapped[idx], cost=cost, eps_scale=self.mg_eps_scale, scaling=self.training["fit_scaling"])
                loss = loss.index_add(0, torch.tensor(idx, device=loss.device), self.mg_weights[idx] * gap)
        return loss

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.training["lr"])


class W2GNTask(nn.Module):
    """ICNN-W2GN baseline: ψ (forward potential) and ψ̄ (its approximate conjugate)."""

    def __init__(self, problem: Problem, seeds: Sequence[int], *, training: dict, cycle_weight_per_dim: float,
                 pretrain_steps: int) -> None:
        super().__init__()
        self.problem, self.seeds, self.training = problem, list(seeds), training
        self.psi = BatchedICNN(seeds, problem.dim)
        self.psi_bar = BatchedICNN([s + 100_003 for s in seeds], problem.dim)
        self.cycle_weight = cycle_weight_per_dim * problem.dim
        self.pretrain_steps = pretrain_steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            return self.psi.push(x, create_graph=False)

    def training_loss(self, step: int) -> torch.Tensor:
        device = next(self.psi.parameters()).device
        x, y = draw_batches(self.problem, self.seeds, step, self.training["batch"], device)
        if step < self.pretrain_steps:  # identity pretraining: ∇ψ ≈ id, ∇ψ̄ ≈ id
            return ((self.psi.push(x) - x) ** 2).sum(-1).mean(-1) + ((self.psi_bar.push(y) - y) ** 2).sum(-1).mean(-1)
        x_hat = self.psi_bar.push(y)
        cycle = ((self.psi.push(x_hat) - y) ** 2).sum(-1).mean(-1)
        dual = self.psi(x).mean(-1) - self.psi(x_hat).mean(-1) + (y * x_hat).sum(-1).mean(-1)
        return dual + self.cycle_weight * cycle

    def after_step(self) -> None:
        self.psi.convexify()
        self.psi_bar.convexify()

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.training["lr"])
