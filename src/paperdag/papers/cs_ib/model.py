"""The shared network of every method (Kolchinsky et al.'s NIB architecture), batched over models.

x → [backbone] → encoder (d→128→128→K, ReLU between) → t = enc_mean(·) (Linear K→K)
  → decoder (K→128→1, ReLU between) → ŷ.
`enc_logvar` (Linear K→K) is the official code's `enc_std` head: it gives the VIB posterior
log-variance and is unused by the other methods (the official CS-IB training path calls the
network with `training=False`, so t is deterministic). Each model is initialised from its run
seed, so runs with the same seed start from the same weights whatever their method.

Backbones: `mlp` (identity; images are flattened) or `lenet`, a LeNet-5-style CNN for the
image tasks at paper scale. The CNN choice is **unverified** (the protocol proposes LeNet or
ResNet-18; the paper's backbones are unknown).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from paperdag.nn import BatchedLinear, BatchedMLP


class BatchedLeNet(nn.Module):
    """M LeNet feature extractors as grouped convolutions: (M, N, C, H, W) → (M, N, 16·4·4)."""

    def __init__(self, seeds: Sequence[int], in_channels: int) -> None:
        super().__init__()
        m = len(seeds)
        self.m, self.c = m, in_channels
        self.conv1 = nn.Conv2d(m * in_channels, m * 6, 5, padding=2, groups=m)
        self.conv2 = nn.Conv2d(m * 6, m * 16, 5, groups=m)
        for i, conv in enumerate((self.conv1, self.conv2)):
            fan_in = conv.weight.shape[1] * conv.weight.shape[2] * conv.weight.shape[3]
            bound = 1.0 / math.sqrt(fan_in)
            per_model = [torch.Generator().manual_seed(s * 7_919 + 50 + i) for s in seeds]
            w = torch.cat(
                [(torch.rand(conv.weight.shape[0] // m, *conv.weight.shape[1:], generator=g) * 2 - 1) * bound for g in per_model]
            )
            b = torch.cat([(torch.rand(conv.bias.shape[0] // m, generator=g) * 2 - 1) * bound for g in per_model])
            with torch.no_grad():
                conv.weight.copy_(w)
                conv.bias.copy_(b)
        self.pool = nn.AdaptiveAvgPool2d(4)
        self.out_dim = 16 * 4 * 4

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m, n, c, h, w = x.shape
        z = x.permute(1, 0, 2, 3, 4).reshape(n, m * c, h, w)
        z = nn.functional.max_pool2d(torch.relu(self.conv1(z)), 2)
        z = self.pool(torch.relu(self.conv2(z)))  # (N, M·16, 4, 4)
        return z.view(n, m, -1).permute(1, 0, 2).contiguous()  # (M, N, 256)


class BottleneckNet(nn.Module):
    """M encoder/bottleneck/decoder networks trained as one (leading model axis)."""

    def __init__(
        self,
        seeds: Sequence[int],
        d_in: int,
        k: int = 128,
        hidden: int = 128,
        backbone: str = "mlp",
        image_shape: Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        self.backbone_kind = backbone
        if backbone == "lenet":
            assert image_shape is not None, "the lenet backbone needs image_shape (C, H, W)"
            self.image_shape = tuple(image_shape)
            self.backbone = BatchedLeNet(seeds, image_shape[0])
            d_in = self.backbone.out_dim
        elif backbone != "mlp":
            raise ValueError(f"unknown backbone {backbone!r}")
        self.encoder = BatchedMLP(seeds, [d_in, hidden, hidden, k])
        self.enc_mean = BatchedLinear(seeds, k, k, layer=10)
        self.enc_logvar = BatchedLinear(seeds, k, k, layer=11)
        self.decoder = BatchedMLP([s + 1_000_003 for s in seeds], [k, hidden, 1])

    @property
    def n_models(self) -> int:
        return self.enc_mean.weight.shape[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(M, N, D) flat inputs → (M, N, d_in) backbone features."""
        if self.backbone_kind == "lenet":
            return self.backbone(x.view(*x.shape[:2], *self.image_shape))
        return x

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The bottleneck mean t and the VIB log-variance head, each (M, N, K)."""
        h = self.encoder(self.features(x))
        return self.enc_mean(h), self.enc_logvar(h)

    def decode(self, t: torch.Tensor) -> torch.Tensor:
        return self.decoder(t).squeeze(-1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Deterministic path (t = mean), as used for evaluation: (t, ŷ)."""
        t, _ = self.encode(x)
        return t, self.decode(t)
