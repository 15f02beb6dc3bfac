"""The digits classifier: K one-hidden-layer MLPs trained as one batched model on real + generated data.

Stand-in for the paper's ResNet-18 on CIFAR-10 (protocol §2.2): cross-entropy, minibatches
drawn uniformly from the union of real and generated samples (the paper concatenates and
shuffles them). The models of one batch take the same number of Adam steps; the augment job
batches together the models whose training sets have the same size, so that each is trained
for the same number of epochs (as the paper trains for fixed epochs). Where a validation set is
given, `validation_metric` is each model's validation error, logged as its training curve. The
learning rate follows a cosine decay to 0 over each batch's steps when asked (the paper anneals
its learning rate with OneCycle's cosine; its 2.5% warm-up is left out). The
hidden layer of a model trained on the whole real pool also serves as the feature space of the
Fréchet distance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.papers.gda.digits import N_CLASSES
from paperdag.papers.gda.pools import PoolSampler
from paperdag.seeding import step_generator
from paperdag.training import cosine_schedule


class BatchedClassifier(nn.Module):
    """K MLP classifiers [D, hidden, 10]; model k learns from pool k of `sampler`."""

    def __init__(
        self,
        sampler: PoolSampler,
        init_seeds: Sequence[int],
        *,
        hidden: int,
        batch: int,
        lr: float,
        weight_decay: float,
        seed: int,
        val: tuple[np.ndarray, np.ndarray] | None = None,
        cosine_steps: int | None = None,
    ) -> None:
        super().__init__()
        self.sampler, self.batch, self.lr, self.weight_decay, self.seed = sampler, batch, lr, weight_decay, seed
        self.cosine_steps = cosine_steps
        self.net = BatchedMLP(init_seeds, [sampler.x.shape[1], hidden, N_CLASSES])
        if val is not None:
            self.register_buffer("x_val", torch.as_tensor(val[0], dtype=torch.float32), persistent=False)
            self.register_buffer("y_val", torch.as_tensor(val[1], dtype=torch.long), persistent=False)
            self.validation_metric = self._validation_error

    def training_loss(self, step: int) -> torch.Tensor:
        x, y = self.sampler.sample(self.batch, step_generator(self.seed, step))  # drawn on CPU
        device = self.net.layers[0].weight.device
        x, y = x.to(device), y.to(device)
        logits = self.net(x)
        return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1)

    @torch.no_grad()
    def _validation_error(self) -> torch.Tensor:
        """Each model's error on the validation set, (K,)."""
        logits = self.net(self.x_val.expand(self.sampler.n_models, -1, -1))
        return (logits.argmax(-1) != self.y_val).float().mean(dim=1)

    def configure_optimizer(self):
        """Adam; with `cosine_steps`, its learning rate decays to 0 along a cosine over that many steps."""
        opt = torch.optim.Adam(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        return opt if self.cosine_steps is None else (opt, cosine_schedule(opt, self.cosine_steps))

    @torch.no_grad()
    def hidden(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """Hidden-layer activations of model k, (N, hidden)."""
        first = self.net.layers[0]
        return torch.relu(x @ first.weight[k] + first.bias[k])

    @torch.no_grad()
    def logits(self, k: int, x: torch.Tensor) -> torch.Tensor:
        last = self.net.layers[1]
        return self.hidden(k, x) @ last.weight[k] + last.bias[k]

    @torch.no_grad()
    def evaluate(self, k: int, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
        """(accuracy, mean cross-entropy) of model k on (x, y)."""
        logits = self.logits(k, x)
        return float((logits.argmax(1) == y).float().mean()), float(F.cross_entropy(logits, y))
