"""Per-model training sets for batched training: each model samples minibatches from its own pool.

All pools index one shared bank of images (real pool + every generated set), so a batch of
models with training sets of different sizes (m real images, plus γ·m generated ones) is
trained as one batched model without copying data per model.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


class PoolSampler:
    """Uniform sampling with replacement from K index pools into a shared (x, y) bank."""

    def __init__(self, x: np.ndarray, y: np.ndarray, pools: Sequence[np.ndarray]) -> None:
        self.x = torch.as_tensor(x, dtype=torch.float32)
        self.y = torch.as_tensor(y, dtype=torch.long)
        self.sizes = torch.tensor([len(p) for p in pools], dtype=torch.long)
        if int(self.sizes.min()) < 1:
            raise ValueError("every pool needs at least one sample")
        width = int(self.sizes.max())
        padded = np.zeros((len(pools), width), dtype=np.int64)
        for k, p in enumerate(pools):
            padded[k, : len(p)] = p
        self.index = torch.as_tensor(padded)

    @property
    def n_models(self) -> int:
        return len(self.sizes)

    def sample(self, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """x (K, batch, D) and y (K, batch): each model's minibatch from its own pool."""
        u = torch.rand((self.n_models, batch), generator=gen)
        pos = (u * self.sizes[:, None]).long().clamp_max(self.sizes[:, None] - 1)
        idx = torch.gather(self.index, 1, pos)
        return self.x[idx], self.y[idx]

    def pool(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The whole training set of model k."""
        idx = self.index[k, : int(self.sizes[k])]
        return self.x[idx], self.y[idx]
