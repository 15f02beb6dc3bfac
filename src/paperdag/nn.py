"""Batched layers: many small networks trained as one, with batched matmuls.

On a CPU a tiny MLP spends its time on per-operation overhead; stacking the seeds and
sibling methods of one setting along a leading model axis pays that overhead once.
Each model is initialised from its own seed, so its weights do not depend on which
other models share the batch.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn


def _init_uniform(shape: tuple[int, ...], bound: float, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=gen) * 2 - 1) * bound


class BatchedLinear(nn.Module):
    """n_models independent affine maps: (M, N, in) → (M, N, out). PyTorch's default init per model."""

    def __init__(self, seeds: Sequence[int], d_in: int, d_out: int, bias: bool = True, layer: int = 0) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        weights = [_init_uniform((d_in, d_out), bound, s * 7_919 + layer * 2 + 1) for s in seeds]
        biases = [_init_uniform((1, d_out), bound, s * 7_919 + layer * 2 + 2) for s in seeds]
        self.weight = nn.Parameter(torch.stack(weights))
        self.bias = nn.Parameter(torch.stack(biases)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bias is None:
            return torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight)


class BatchedMLP(nn.Module):
    """n_models MLPs with the same sizes; `residual` (one flag, or one per model) adds the input
    to the output (d_in == d_out), so plain and residual maps can share one batch."""

    def __init__(self, seeds: Sequence[int], sizes: Sequence[int],
                 activation: Callable[[torch.Tensor], torch.Tensor] = torch.relu,
                 residual: bool | Sequence[bool] = False) -> None:
        super().__init__()
        self.layers = nn.ModuleList(BatchedLinear(seeds, a, b, layer=i) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])))
        self.activation = activation
        flags = [bool(residual)] * len(seeds) if isinstance(residual, bool) else [bool(r) for r in residual]
        self.residual = any(flags)
        self.register_buffer("residual_mask", torch.tensor(flags, dtype=torch.float32).view(-1, 1, 1), persistent=False)

    @property
    def n_models(self) -> int:
        return self.layers[0].weight.shape[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, layer in enumerate(self.layers):
            h = layer(h)
            if i < len(self.layers) - 1:
                h = self.activation(h)
        return x * self.residual_mask + h if self.residual else h
