"""Class-conditional generators fitted on the m real digits: a conditional GAN and a class Gaussian.

* `ConditionalGAN`: K conditional GANs trained as one batched model. The hyperparameters are
  the paper's cDCGAN ones (`main_train_CDCGAN.py`: Adam 2e-4, β₁ 0.5, batch 64, BCE, z = 100,
  one-hot labels); the networks are MLPs rather than the DCGAN convolutions, a CPU-scale
  deviation for 8×8 and 28×28 digits. As in DCGAN, the generator's hidden layers use batch
  normalisation (batch statistics, also when sampling) and ReLU, the discriminator LeakyReLU(0.2);
  without the normalisation the generator collapsed to one image per run in development runs
  on the training pool. Updates alternate: even steps train the discriminator
  on real vs detached fakes, odd steps train the generator through a frozen copy of the
  discriminator's weights (non-saturating loss). One Adam holds both parameter sets; the
  side without gradients is skipped by Adam, so each step updates one network only.

  Class conditioning. The generator takes [z, one-hot(y)]. The discriminator is a projection
  discriminator (Miyato & Koyama 2018): logit(x, y) = ψ(φ(x)) + ⟨embed(y), φ(x)⟩, with φ the
  MLP body, ψ a linear head and embed a per-class vector. An earlier version concatenated the
  one-hot label to the 784 pixels of a 28×28 digit; the trained discriminator ignored that input
  and the generated mnist5k digits were classified as their drawn class at chance (≈ 0.11).
  The projection term makes the label multiply the features, so a real image shown with the
  wrong label is scored as fake. As in that paper its weights are spectrally normalised; without
  that, on m = 100 mnist5k digits the discriminator won outright (loss → 0) and the generator
  diverged in a development run (class fidelity 0.10, FD 361).
* `ClassGaussian`: per-class mean and Ledoit-Wolf-shrunk covariance in pixel space, the
  "simpler conditional density model" (no gradient training), clipped to [0, 1] when sampled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from paperdag.nn import BatchedLinear, BatchedMLP
from paperdag.papers.gda.digits import N_CLASSES
from paperdag.papers.gda.pools import PoolSampler
from paperdag.seeding import step_generator


def _leaky(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, 0.2)


def _batch_norm(h: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Normalise each model's features over its own batch (axis 1), as BatchNorm does in training mode."""
    mean = h.mean(dim=1, keepdim=True)
    var = h.var(dim=1, unbiased=False, keepdim=True)
    return (h - mean) / torch.sqrt(var + eps)


def balanced_class_labels(n: int) -> np.ndarray:
    """0, 1, …, 9, 0, 1, …: every prefix whose length is a multiple of 10 is class-balanced."""
    return np.arange(n) % N_CLASSES


def _spectral_normalized(weight: torch.Tensor, u: torch.Tensor, update: bool) -> torch.Tensor:
    """weight (K, in, out) divided by its largest singular value, per model, from one power iteration.

    `u` (K, out) is the running right singular vector (a buffer, so it is checkpointed); it is
    updated in place when `update` (training mode), as torch.nn.utils.spectral_norm does.
    """
    with torch.no_grad():
        v = F.normalize(torch.bmm(weight, u.unsqueeze(-1)).squeeze(-1), dim=-1, eps=1e-12)  # (K, in)
        u_new = F.normalize(torch.bmm(v.unsqueeze(1), weight).squeeze(1), dim=-1, eps=1e-12)  # (K, out)
        if update:
            u.copy_(u_new)
    sigma = torch.einsum("ki,kio,ko->k", v, weight, u_new)
    return weight / sigma[:, None, None]


class ProjectionDiscriminator(nn.Module):
    """K projection discriminators: logit(x, y) = ψ(φ(x)) + ⟨embed_y, φ(x)⟩ (Miyato & Koyama 2018).

    φ is a two-layer MLP with LeakyReLU(0.2), ψ a linear head, embed one vector per class; every
    weight is spectrally normalised as in the paper (one power iteration per forward pass in
    training mode). x (K, n, D), y (K, n) integer labels → logits (K, n, 1).
    """

    def __init__(self, seeds: Sequence[int], data_dim: int, hidden: int) -> None:
        super().__init__()
        self.body = BatchedMLP(seeds, [data_dim, hidden, hidden])  # φ (activations applied in forward)
        self.head = BatchedLinear(seeds, hidden, 1, layer=2)  # ψ
        self.embed = BatchedLinear(seeds, N_CLASSES, hidden, bias=False, layer=3)  # one-hot(y) @ E = embed_y
        for i, lin in enumerate(self._linears()):
            gen = torch.Generator().manual_seed(int(seeds[0]) * 31 + i)
            self.register_buffer(
                f"sn_u{i}", F.normalize(torch.randn(lin.weight.shape[0], lin.weight.shape[2], generator=gen), dim=-1)
            )

    def _linears(self) -> list[BatchedLinear]:
        return [*self.body.layers, self.head, self.embed]

    def _weight(self, i: int) -> torch.Tensor:
        return _spectral_normalized(self._linears()[i].weight, getattr(self, f"sn_u{i}"), self.training)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = x
        for i, lin in enumerate(self.body.layers):
            h = _leaky(torch.baddbmm(lin.bias, h, self._weight(i)))
        n = len(self.body.layers)
        embed_y = torch.bmm(F.one_hot(y, N_CLASSES).to(h.dtype), self._weight(n + 1))
        return torch.baddbmm(self.head.bias, h, self._weight(n)) + (embed_y * h).sum(dim=-1, keepdim=True)


class ConcatDiscriminator(nn.Module):
    """K MLP discriminators on [x, one-hot(y)]: the earlier design, which learned to ignore y on 28×28 digits."""

    def __init__(self, seeds: Sequence[int], data_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = BatchedMLP(seeds, [data_dim + N_CLASSES, hidden, hidden, 1], activation=_leaky)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, F.one_hot(y, N_CLASSES).to(x.dtype)], dim=-1))


class ConditionalGAN(nn.Module):
    """K MLP conditional GANs, model k trained on pool k of `sampler`."""

    def __init__(
        self,
        sampler: PoolSampler,
        init_seeds: Sequence[int],
        *,
        z_dim: int,
        hidden: int,
        batch: int,
        lr: float,
        beta1: float,
        seed: int,
        conditioning: str = "projection",
    ) -> None:
        super().__init__()
        self.sampler, self.z_dim, self.batch, self.lr, self.beta1, self.seed = sampler, z_dim, batch, lr, beta1, seed
        self.conditioning = conditioning
        data_dim = sampler.x.shape[1]
        d_seeds = [s + 500_009 for s in init_seeds]
        self.G = BatchedMLP(init_seeds, [z_dim + N_CLASSES, hidden, hidden, data_dim], activation=_leaky)
        if conditioning == "projection":
            self.D: nn.Module = ProjectionDiscriminator(d_seeds, data_dim, hidden)
        elif conditioning == "concat":  # the earlier design, kept to compare against: [x, one-hot(y)] → MLP
            self.D = ConcatDiscriminator(d_seeds, data_dim, hidden)
        else:
            raise ValueError(f"unknown conditioning {conditioning!r} (known: projection, concat)")

    @property
    def n_models(self) -> int:
        return self.G.n_models

    @property
    def device(self) -> torch.device:
        return self.G.layers[0].weight.device

    def generate(self, labels: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Images (K, n, D) in [0, 1] for labels (K, n); noise drawn on CPU from `gen`, then moved."""
        z = torch.randn((*labels.shape, self.z_dim), generator=gen).to(self.device)
        onehot = F.one_hot(labels.to(self.device), N_CLASSES).float()
        h = torch.cat([z, onehot], dim=-1)
        for layer in self.G.layers[:-1]:  # DCGAN's generator: linear → batch norm → ReLU
            h = torch.relu(_batch_norm(layer(h)))
        return torch.sigmoid(self.G.layers[-1](h))

    def _critic(self, x: torch.Tensor, y: torch.Tensor, params: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        x, y = x.to(self.device), y.to(self.device)
        return self.D(x, y) if params is None else functional_call(self.D, params, (x, y))

    def training_loss(self, step: int) -> torch.Tensor:
        gen = step_generator(self.seed, step)
        fake_y = torch.randint(0, N_CLASSES, (self.n_models, self.batch), generator=gen)
        if step % 2 == 0:  # discriminator step: real → 1, detached fake → 0
            x, y = self.sampler.sample(self.batch, gen)
            with torch.no_grad():
                fake = self.generate(fake_y, gen)
            real_logit, fake_logit = self._critic(x, y), self._critic(fake, fake_y)
            loss = F.binary_cross_entropy_with_logits(
                real_logit, torch.ones_like(real_logit), reduction="none"
            ) + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit), reduction="none")
        else:  # generator step through the frozen discriminator: fake → 1
            frozen = {k: v.detach() for k, v in self.D.named_parameters()}
            logit = self._critic(self.generate(fake_y, gen), fake_y, frozen)
            loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit), reduction="none")
        return loss.mean(dim=(1, 2))

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr, betas=(self.beta1, 0.999))

    @torch.no_grad()
    def sample(self, n: int, seed: int) -> np.ndarray:
        """n class-balanced images per model, (K, n, D), with labels `balanced_class_labels(n)`."""
        gen = torch.Generator().manual_seed(seed)
        labels = torch.as_tensor(balanced_class_labels(n)).expand(self.n_models, n)
        return self.generate(labels, gen).cpu().numpy()


@dataclass(frozen=True)
class ClassGaussian:
    """Per-class Gaussians N(μ_c, Σ_c) with Σ_c the Ledoit-Wolf shrinkage estimate."""

    means: np.ndarray  # (10, D)
    chols: np.ndarray  # (10, D, D) Cholesky factors of Σ_c

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray) -> ClassGaussian:
        from sklearn.covariance import ledoit_wolf

        means, chols = [], []
        for c in range(N_CLASSES):
            xc = x[y == c].astype(np.float64)
            cov, _ = ledoit_wolf(xc)
            means.append(xc.mean(axis=0))
            chols.append(np.linalg.cholesky(cov + 1e-9 * np.eye(x.shape[1])))
        return cls(np.stack(means), np.stack(chols))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n class-balanced images (labels `balanced_class_labels(n)`), clipped to [0, 1]."""
        labels = balanced_class_labels(n)
        z = rng.standard_normal((n, self.means.shape[1]))
        x = np.empty_like(z)
        for c in range(N_CLASSES):
            rows = labels == c
            x[rows] = self.means[c] + z[rows] @ self.chols[c].T
        return np.clip(x, 0.0, 1.0).astype(np.float32)
