"""Training objectives of the Monge-gap comparison, one batched task per method.

`MapTask`: T = MLP (plain or residual, per model); loss_k = S_ε(T_k#μ̂, ν̂) + λ_k MG_c(T_k) on
fresh minibatches (the Monge gap's reference measure ρ is the source minibatch, as in ott-jax);
both Sinkhorn problems by `paperdag.sinkhorn` (geomloss's estimator; its loop fused into one
kernel where `fused_sinkhorn` is set).
Both tasks decay Adam's learning rate by the configured schedule (cosine to 0 by default: a
constant rate leaves a noise floor) and log L2-UVP on a fixed held-out sample as their
validation curve.
`W2GNTask`: ICNN potentials ψ, ψ̄ trained with the W2GN objective (Korotin et al. 2019)
E_μ ψ(x) + E_ν[⟨y, ∇ψ̄(y)⟩ − ψ(∇ψ̄(y))] + λ E_ν‖∇ψ(∇ψ̄(y)) − y‖², after identity pretraining.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.papers.monge_gap.benchmarks import Problem
from paperdag.papers.monge_gap.models import BatchedICNN
from paperdag.papers.monge_gap.ot import monge_gap
from paperdag.seeding import step_generator
from paperdag.sinkhorn import sinkhorn_divergence
from paperdag.training import cosine_schedule


def draw_batches(problem: Problem, seeds: Sequence[int], step: int, n: int,
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Independent source and target minibatches per model, a function of (seed, step) only.

    Drawn on the CPU and then moved, so a GPU run sees the same minibatches as a CPU run.
    """
    x = torch.stack([problem.sample_source(n, step_generator(s, step, 0)) for s in seeds])
    y = torch.stack([problem.sample_target(n, step_generator(s, step, 1)) for s in seeds])
    return x.to(device), y.to(device)


class Validation(nn.Module):
    """L2-UVP of every model on one fixed held-out sample: the validation curve of training."""

    def __init__(self, problem: Problem, n: int = 1024, seed: int = 424_242) -> None:
        super().__init__()
        x = problem.sample_source(n, torch.Generator().manual_seed(seed))
        y = problem.true_map(x)
        self.register_buffer("x", x, persistent=False)
        self.register_buffer("y", y, persistent=False)
        self.register_buffer("var", y.var(dim=0, unbiased=False).sum(), persistent=False)

    def forward(self, mapped: torch.Tensor) -> torch.Tensor:
        return 100.0 * ((mapped - self.y) ** 2).sum(-1).mean(-1) / self.var


def _optimizer(module: nn.Module, training: dict, steps: int):
    """Adam at the configured rate, decayed by the configured schedule over the run's steps."""
    optimizer = torch.optim.Adam(module.parameters(), lr=training["lr"])
    if training["schedule"] == "constant":
        return optimizer
    return optimizer, cosine_schedule(optimizer, steps)


class MapTask(nn.Module):
    """MLP maps fitted by Sinkhorn divergence, each model with its own residual flag, Monge-gap
    weight λ, Monge-gap ε scale and cost: plain MLP, MLP + MG and residual variants in one batch."""

    def __init__(self, problem: Problem, seeds: Sequence[int], hidden: Sequence[int], *, residual: Sequence[bool],
                 mg_weights: Sequence[float], mg_eps_scales: Sequence[float], costs: Sequence[str], training: dict,
                 steps: int) -> None:
        super().__init__()
        self.problem, self.seeds, self.training, self.steps = problem, list(seeds), training, steps
        self.net = BatchedMLP(seeds, [problem.dim, *hidden, problem.dim], nn.functional.gelu, residual=residual)
        self.register_buffer("mg_weights", torch.tensor(mg_weights, dtype=torch.float32))
        self.costs, self.mg_eps_scales = list(costs), list(mg_eps_scales)
        self.validation = Validation(problem)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_loss(self, step: int) -> torch.Tensor:
        x, y = draw_batches(self.problem, self.seeds, step, self.training["batch"], self.mg_weights.device)
        mapped = self.net(x)
        fused = self.training["fused_sinkhorn"]
        loss = sinkhorn_divergence(mapped, y, blur=self.training["fit_blur"], scaling=self.training["fit_scaling"], fused=fused)
        for cost, eps in sorted(set(zip(self.costs, self.mg_eps_scales))):
            idx = [k for k, (c, e) in enumerate(zip(self.costs, self.mg_eps_scales))
                   if c == cost and e == eps and self.mg_weights[k] > 0]
            if idx:
                gap = monge_gap(x[idx], mapped[idx], cost=cost, eps_scale=eps, scaling=self.training["fit_scaling"], fused=fused)
                loss = loss.index_add(0, torch.tensor(idx, device=loss.device), self.mg_weights[idx] * gap)
        return loss

    def validation_metric(self) -> torch.Tensor:
        return self.validation(self.net(self.validation.x.expand(len(self.seeds), -1, -1)))

    def configure_optimizer(self):
        return _optimizer(self, self.training, self.steps)


class W2GNTask(nn.Module):
    """ICNN-W2GN baseline: ψ (forward potential) and ψ̄ (its approximate conjugate)."""

    def __init__(self, problem: Problem, seeds: Sequence[int], *, training: dict, cycle_weight_per_dim: float,
                 pretrain_steps: int, steps: int) -> None:
        super().__init__()
        self.problem, self.seeds, self.training, self.steps = problem, list(seeds), training, steps
        self.psi = BatchedICNN(seeds, problem.dim)
        self.psi_bar = BatchedICNN([s + 100_003 for s in seeds], problem.dim)
        self.cycle_weight = cycle_weight_per_dim * problem.dim
        self.pretrain_steps = pretrain_steps
        self.validation = Validation(problem)

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

    def validation_metric(self) -> torch.Tensor:
        with torch.enable_grad():
            mapped = self.psi.push(self.validation.x.expand(len(self.seeds), -1, -1), create_graph=False)
        return self.validation(mapped.detach())

    def configure_optimizer(self):
        return _optimizer(self, self.training, self.steps)
