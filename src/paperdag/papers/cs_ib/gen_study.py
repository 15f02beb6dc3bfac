"""The paper's generalisation study: about 100 small MLPs, I_CS(x;t), I_CS(x;t|y) and the generalisation gap.

The protocol (§2.9): 100 MLPs on California Housing, depth 2–8 and width 16–128, correlating
I_CS(x;t) and I_CS(x;t|y) with the generalisation gap; it states no direction. Our choices
(unverified against the paper):
- Networks: every (depth, width) of the config's grids × its seeds, plain MSE regression, each
  architecture one `BatchedMLP` (its seeds batched), all trained together in one process with one
  Adam; minibatches per seed from `step_generator`, as in the main jobs.
- A fixed number of steps, no early stopping: the gap is what is studied, so the networks are
  allowed to overfit; the training set is the first `n_train` rows of the (shuffled) training
  split, small, so that the gap varies across networks.
- t is the last hidden layer (the input of the linear output layer); x and t as the main jobs'
  information plane: normalised CS-QMI, σ of the estimator config, averaged over batches of
  `batch` training points.
- I_CS(x;t|y): the same normalised CS-QMI within strata of nearly equal y (the training points
  sorted by y, cut into consecutive blocks of `batch`), averaged over the strata: conditioning on y
  by stratification.
- Gap: test MSE − training MSE (standardised y units).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.papers.cs_ib.estimators import cs_qmi
from paperdag.seeding import step_generator


@dataclass(frozen=True)
class Arch:
    depth: int  # hidden layers
    width: int


class EnsembleStudy(nn.Module):
    """Every architecture's seeds as one `BatchedMLP`; `training_loss(step)` gives one MSE per network."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, archs: Sequence[Arch], seeds: Sequence[int], *, batch: int, lr: float
    ) -> None:
        super().__init__()
        self.archs, self.seeds, self.batch, self.lr = list(archs), list(seeds), batch, lr
        self.register_buffer("x", torch.as_tensor(x, dtype=torch.float32), persistent=False)
        self.register_buffer("y", torch.as_tensor(y, dtype=torch.float32), persistent=False)
        d_in = self.x.shape[1]
        self.mlps = nn.ModuleList(
            BatchedMLP([s * 1_000 + i for s in self.seeds], [d_in] + [a.width] * a.depth + [1]) for i, a in enumerate(self.archs)
        )
        self.n_train = len(self.y)
        self.steps_per_epoch = math.ceil(self.n_train / batch)
        self._perm_epoch = None

    @property
    def labels(self) -> list[tuple[Arch, int]]:
        """(architecture, seed) of every network, in the order of the losses."""
        return [(a, s) for a in self.archs for s in self.seeds]

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr, fused=True)

    def _batch(self, step: int) -> torch.Tensor:
        epoch, within = divmod(step, self.steps_per_epoch)
        if self._perm_epoch != epoch:
            gens = [step_generator(s, epoch, stream=3) for s in self.seeds]
            self._perms = torch.stack([torch.randperm(self.n_train, generator=g) for g in gens])
            self._perm_epoch = epoch
        return self._perms[:, within * self.batch : (within + 1) * self.batch]

    def training_loss(self, step: int) -> torch.Tensor:
        idx = self._batch(step)  # (S, B): every architecture sees its seed's minibatch
        x, y = self.x[idx], self.y[idx]
        return torch.cat([((mlp(x).squeeze(-1) - y) ** 2).mean(-1) for mlp in self.mlps])

    @torch.no_grad()
    def forward_all(self, x: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per architecture: (t, ŷ), t the last hidden layer (S, N, width), ŷ (S, N)."""
        out = []
        xb = x.unsqueeze(0).expand(len(self.seeds), -1, -1)
        for mlp in self.mlps:
            h = xb
            for j, layer in enumerate(mlp.layers):
                if j == len(mlp.layers) - 1:
                    out.append((h, layer(h).squeeze(-1)))
                else:
                    h = mlp.activation(layer(h))
        return out

    @torch.no_grad()
    def mse(self, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
        return torch.cat([((yh - y) ** 2).mean(-1) for _, yh in self.forward_all(x)]).numpy()

    @torch.no_grad()
    def information(self, x: torch.Tensor, y: torch.Tensor, sigma: float) -> tuple[np.ndarray, np.ndarray]:
        """(I_CS(x;t), I_CS(x;t|y)) per network: normalised CS-QMI over consecutive blocks of `batch`
        points, in the given order (unconditional) and sorted by y (conditional, y-strata)."""
        order = torch.argsort(y)
        res = []
        for xs in (x, x[order]):
            blocks = [xs[i : i + self.batch] for i in range(0, len(xs) - self.batch + 1, self.batch)]
            per = []
            for xb in blocks:
                xm = xb.unsqueeze(0).expand(len(self.seeds), -1, -1)
                per.append(torch.cat([cs_qmi(xm, t, sigma, normalized=True) for t, _ in self.forward_all(xb)]))
            res.append(torch.stack(per).mean(0).numpy())
        return res[0], res[1]


def train_plain(study: EnsembleStudy, steps: int) -> list[float]:
    """A plain optimiser loop (no Lightning): the whole study is seconds long, needs no resume, and
    Lightning's import alone would cost about 2.6 CPU-s. Returns the summed loss every 100 steps."""
    opt = study.configure_optimizer()
    logged = []
    for step in range(steps):
        loss = study.training_loss(step)
        if not bool(torch.isfinite(loss).all()):
            raise FloatingPointError(f"gen_study: non-finite loss at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()
        opt.step()
        if step % 100 == 0 or step == steps - 1:
            logged.append(float(loss.detach().mean()))
    return logged


def _rank_rows(a: np.ndarray) -> np.ndarray:
    """Average ranks along the last axis (ties share their mean rank), as Spearman's ρ needs."""
    from scipy.stats import rankdata

    return rankdata(a, axis=-1)


def _pearson_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(-1, keepdims=True)
    b = b - b.mean(-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):  # a resample of tied values has no ρ (NaN, skipped)
        return (a * b).sum(-1) / np.sqrt((a * a).sum(-1) * (b * b).sum(-1))


def correlation(a: np.ndarray, b: np.ndarray, *, n_perm: int, seed: int = 0) -> dict[str, float]:
    """Spearman ρ of (a, b), its two-sided permutation p-value (ρ over shuffled pairings of a and b)
    and percentile-bootstrap 95% CI; `rho_shuffled`: ρ of one shuffled pairing (the control)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ra, rb = _rank_rows(a), _rank_rows(b)
    rho = float(_pearson_rows(ra, rb))
    rng = np.random.default_rng(seed)
    null = _pearson_rows(ra[None, :], rng.permuted(np.tile(rb, (n_perm, 1)), axis=1))
    idx = rng.integers(0, len(a), (n_perm, len(a)))
    boots = _pearson_rows(_rank_rows(a[idx]), _rank_rows(b[idx]))
    lo, hi = np.nanpercentile(boots, [2.5, 97.5])
    return {
        "rho": rho,
        "p_perm": float((1 + (np.abs(null) >= abs(rho) - 1e-12).sum()) / (1 + n_perm)),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "rho_shuffled": float(_pearson_rows(ra, rng.permutation(rb))),
        "n": len(a),
    }


QUANTITIES = {"ixt": "I_CS(x;t)", "ixt_given_y": "I_CS(x;t∣y)"}  # ∣ (U+2223): a bar that keeps Markdown tables whole


def correlations(networks: list[dict], n_perm: int) -> list[dict]:
    """One row per information quantity: its Spearman correlation with the generalisation gap."""
    gap = np.array([n["gap"] for n in networks])
    return [
        {"quantity": label, **correlation(np.array([n[key] for n in networks]), gap, n_perm=n_perm, seed=j)}
        for j, (key, label) in enumerate(QUANTITIES.items())
    ]
