"""The 2-D imbalanced mixture (protocol T1): data, the skewed two-mode student start, and its metrics.

Data: K Gaussians (std s) on a circle of radius R, weights ∝ 2^(−k/2). Metrics per slot:
Fréchet distance on the samples themselves (no feature network), mode coverage (modes holding at
least half their expected mass), total variation between the per-mode histogram and π, k-NN
precision/recall (Kynkäänniemi et al. 2019, k = 3) and the Sinkhorn divergence (geomloss).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from paperdag.metrics import frechet_distance, sinkhorn_divergence
from paperdag.nn import BatchedMLP
from paperdag.seeding import step_generator


def mixture(n_modes: int, radius: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Means on the circle and weights π_k ∝ 2^(−k/2)."""
    angles = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes
    means = radius * torch.stack([angles.cos(), angles.sin()], 1)
    w = 2.0 ** (-torch.arange(n_modes, dtype=torch.float64) / 2)
    return means.float(), (w / w.sum()).float()


def sample_mixture(means: torch.Tensor, weights: torch.Tensor, std: float, n: int, gen: torch.Generator) -> torch.Tensor:
    k = torch.multinomial(weights, n, replacement=True, generator=gen)
    return means[k] + std * torch.randn(n, means.shape[1], generator=gen)


def one_step_generator(seeds: Sequence[int], latent_dim: int, hidden: Sequence[int], dim: int = 2) -> BatchedMLP:
    """The toy's one-step generator z → x, one model per seed: the distilled students and the direct-fit
    reference both build it here, so the reference is the students' architecture and initial weights."""
    return BatchedMLP(seeds, [latent_dim, *hidden, dim], activation=nn.functional.silu)


def mode_histogram(x: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """Fraction of samples nearest to each mode; x: (M, N, 2) → (M, K)."""
    k = torch.cdist(x, means.expand(x.shape[0], *means.shape)).argmin(-1)
    return nn.functional.one_hot(k, means.shape[0]).float().mean(1)


def knn_precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Improved precision/recall: a point is covered if it lies within the k-NN radius of some point
    of the other set. real, fake: (M, N, d) → (precision, recall), each (M,)."""

    def radii(a: torch.Tensor) -> torch.Tensor:
        d = torch.cdist(a, a)
        return d.kthvalue(k + 1, dim=-1).values  # the point itself is at distance 0

    r_real, r_fake = radii(real), radii(fake)
    d_fr = torch.cdist(fake, real)  # (M, Nf, Nr)
    precision = (d_fr <= r_real.unsqueeze(1)).any(-1).float().mean(-1)
    recall = (d_fr.transpose(1, 2) <= r_fake.unsqueeze(1)).any(-1).float().mean(-1)
    return precision, recall


class ToyEvaluator:
    """Metrics of every slot's samples against a fixed reference sample of the data (same n for all)."""

    def __init__(
        self,
        means: torch.Tensor,
        weights: torch.Tensor,
        reference: torch.Tensor,
        k: int,
        sinkhorn_blur: float,
        n_sinkhorn: int = 0,
    ) -> None:
        self.means, self.weights, self.reference, self.k = means, weights, reference, k
        self.blur, self.n_sinkhorn = sinkhorn_blur, n_sinkhorn

    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        m = x.shape[0]
        ref = self.reference.expand(m, *self.reference.shape)
        hist = mode_histogram(x, self.means)
        precision, recall = knn_precision_recall(ref, x, self.k)
        out = {
            "fd": torch.tensor([frechet_distance(x[i].double().numpy(), self.reference.double().numpy()) for i in range(m)]),
            "tv": 0.5 * (hist - self.weights).abs().sum(-1),
            "coverage": (hist >= 0.5 * self.weights).sum(-1).float(),
            "precision": precision,
            "recall": recall,
        }
        if self.n_sinkhorn:  # all slots at once, on the first n_sinkhorn points of each cloud
            n = self.n_sinkhorn
            out["sinkhorn"] = sinkhorn_divergence(x[:, :n].contiguous(), ref[:, :n].contiguous(), blur=self.blur)
        return out


class SkewedStart(nn.Module):
    """Pretrains the batched student z → x to put its mass on two modes only (the protocol's skewed
    start, mimicking the paper's Fig. 8): z[0] picks the mode, z[1:3] the offset within it."""

    def __init__(
        self,
        student: BatchedMLP,
        slot_seeds: Sequence[int],
        means: torch.Tensor,
        modes: Sequence[int],
        std: float,
        batch: int,
        lr: float,
    ) -> None:
        super().__init__()
        self.student, self.slot_seeds = student, list(slot_seeds)
        self.register_buffer("targets", means[list(modes)])
        self.std, self.batch, self.lr = std, batch, lr
        self.latent_dim = student.layers[0].weight.shape[1]

    def training_loss(self, step: int) -> torch.Tensor:
        z = torch.stack(
            [torch.randn(self.batch, self.latent_dim, generator=step_generator(s, step, 11)) for s in self.slot_seeds]
        )
        mode = (z[..., 0] > 0).long()
        target = self.targets[mode] + self.std * z[..., 1:3]
        return ((self.student(z) - target) ** 2).sum(-1).mean(1)

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.student.parameters(), lr=self.lr)


def collapsed(x: torch.Tensor, means: torch.Tensor, weights: torch.Tensor, kept: int, n: int) -> torch.Tensor:
    """The negative control of the mode-coverage claims: each slot's own samples restricted to the `kept`
    heaviest modes (a mode-seeking collapse of the same student): the first n samples of x (M, N, 2)
    nearest to a kept mode (cycled if a slot has fewer: only a student far from trained, e.g. at smoke scale)."""
    keep = weights.argsort(descending=True)[:kept]
    nearest = torch.cdist(x, means.expand(x.shape[0], *means.shape)).argmin(-1)
    inside = torch.isin(nearest, keep)
    out = []
    for i in range(x.shape[0]):
        pts = x[i][inside[i]] if bool(inside[i].any()) else x[i]
        out.append(pts[torch.arange(n) % len(pts)])
    return torch.stack(out)


def floor_metrics(means: torch.Tensor, weights: torch.Tensor, std: float, n: int, seed: int, k: int) -> dict[str, float]:
    """Noise floors: the metrics between two independent data samples of size n."""
    a = sample_mixture(means, weights, std, n, step_generator(seed, 0, 21))
    b = sample_mixture(means, weights, std, n, step_generator(seed, 0, 22))
    hist = mode_histogram(b[None], means)[0]
    precision, recall = knn_precision_recall(a[None], b[None], k)
    return {
        "floor_fd": frechet_distance(a.double().numpy(), b.double().numpy()),
        "floor_tv": float(0.5 * (hist - weights).abs().sum()),
        "floor_recall_gap": float(1.0 - recall[0]),
        "floor_precision": float(precision[0]),
        "floor_recall": float(recall[0]),
    }


def area_under(steps: Sequence[int], values: np.ndarray) -> float:
    """Trapezoid area under a metric's trajectory, divided by the step range (a time-averaged value)."""
    steps = np.asarray(steps, dtype=float)
    return float(np.trapezoid(values, steps) / (steps[-1] - steps[0])) if len(steps) > 1 else float(values[0])
