"""The map families compared in the Monge-gap experiments, batched over seeds.

- `BatchedMLP` (paperdag.nn): plain or residual MLP maps T(x).
- `BatchedICNN`: an input-convex network ψ in the style of Korotin et al.'s DenseICNN
  (convex-quadratic input injections, non-negative hidden-to-hidden weights clamped after
  every step, CELU, a small strongly convex term); the map is ∇ψ.
- `fit_linear_map`: the Gaussian OT map between the sample means/covariances.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from paperdag.nn import BatchedLinear
from paperdag.papers.monge_gap.ot import gaussian_ot_map


class BatchedConvexQuadratic(nn.Module):
    """x ↦ (xQ)² summed over a rank + Wx + b: convex in x, one per model."""

    def __init__(self, seeds: Sequence[int], d_in: int, d_out: int, rank: int, layer: int) -> None:
        super().__init__()
        self.linear = BatchedLinear(seeds, d_in, d_out, layer=100 + layer)
        gens = [torch.Generator().manual_seed(s * 31 + layer) for s in seeds]
        self.quad = nn.Parameter(torch.stack([torch.randn(d_in, rank * d_out, generator=g) / np.sqrt(d_in) for g in gens]))
        self.rank, self.d_out = rank, d_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = torch.bmm(x, self.quad) ** 2  # (M, N, rank*d_out)
        return q.view(*q.shape[:-1], self.rank, self.d_out).sum(-2) + self.linear(x)


class BatchedICNN(nn.Module):
    """ψ(x) for several seeds at once; ∇ψ is the transport map."""

    def __init__(self, seeds: Sequence[int], dim: int, hidden: Sequence[int] | None = None, rank: int = 1,
                 strong_convexity: float = 1e-4) -> None:
        super().__init__()
        hidden = list(hidden or [max(2 * dim, 64), max(2 * dim, 64), max(dim, 32)])
        self.inputs = nn.ModuleList(BatchedConvexQuadratic(seeds, dim, h, rank, i) for i, h in enumerate(hidden))
        self.hidden = nn.ModuleList(BatchedLinear(seeds, a, b, bias=False, layer=200 + i)
                                    for i, (a, b) in enumerate(zip(hidden[:-1], hidden[1:])))
        self.final = BatchedLinear(seeds, hidden[-1], 1, bias=False, layer=300)
        self.strong_convexity = strong_convexity
        self.convexify()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = nn.functional.celu(self.inputs[0](x))
        for inject, layer in zip(self.inputs[1:], self.hidden):
            z = nn.functional.celu(layer(z) + inject(x))
        return self.final(z).squeeze(-1) + 0.5 * self.strong_convexity * (x ** 2).sum(-1)

    def push(self, x: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
        """∇ψ(x), differentiable when `create_graph`."""
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        return torch.autograd.grad(self(x).sum(), x, create_graph=create_graph)[0]

    @torch.no_grad()
    def convexify(self) -> None:
        for layer in [*self.hidden, self.final]:
            layer.weight.clamp_(min=0)


def fit_linear_map(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The closed-form Gaussian OT map between the empirical Gaussians of x and y."""
    xs, ys = x.double().numpy(), y.double().numpy()
    a, b = gaussian_ot_map(xs.mean(0), np.cov(xs, rowvar=False), ys.mean(0), np.cov(ys, rowvar=False))
    return torch.tensor(a, dtype=torch.float32), torch.tensor(b, dtype=torch.float32)
