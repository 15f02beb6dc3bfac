"""The toy's two references (issue #18), measured like the students (same evaluator, same n, same seeds).

- the teacher reference: the analytic-score teacher's own multi-step samples, drawn by EDM's Heun sampler
  (`edm.heun_sample`, the sampler of the digits teacher reference). It checks that the teacher is the data
  distribution: its precision and recall should sit at the data-vs-data floor.
- the direct fit: the students' generator (`toy.one_step_generator` z → x, the same hidden sizes, latent_dim
  and seeds, hence the same initial weights) trained directly on data samples with the Sinkhorn divergence
  (`paperdag.sinkhorn`). Our choice of its optimisation, to match the students': as many updates as a student
  gets (`student_steps`), the students' lr, AdamW weight decay and lr schedule (cosine to 0 at default scale),
  a batch of `direct_fit.batch` (128: a fifth of the job's CPU budget; the students draw 256). It bounds what a
  one-step generator of this size reaches without distillation: students far below it are limited by the
  distillation, students near it by the architecture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from paperdag.papers.f_distill.distill import EVAL_STREAM_STEP, DistillConfig, student_lr_factor
from paperdag.papers.f_distill.edm import heun_sample
from paperdag.papers.f_distill.toy import one_step_generator
from paperdag.seeding import step_generator
from paperdag.sinkhorn import sinkhorn_divergence

Sampler = Callable[[torch.Generator, int], torch.Tensor]
Evaluator = Callable[[torch.Tensor], dict[str, torch.Tensor]]


def teacher_samples(
    teacher: nn.Module, seeds: Sequence[int], n: int, dim: int, steps: int, sigma_min: float, sigma_max: float
) -> torch.Tensor:
    """n Heun samples of a one-model denoiser per seed, (len(seeds), n, dim); each seed draws its own noise."""
    return torch.stack([heun_sample(teacher, n, dim, steps, sigma_min, sigma_max, step_generator(s, 0, 71)) for s in seeds])


class DirectFit(nn.Module):
    """The students' generator fitted to data by the Sinkhorn divergence, one slot per seed, for `fit`;
    `trajectory` holds the evaluator's metrics at `eval_steps` (updates done), like `DistillTask`'s."""

    def __init__(
        self,
        cfg: DistillConfig,
        seeds: Sequence[int],
        hidden: Sequence[int],
        real_sampler: Sampler,
        batch: int,
        blur: float,
        evaluator: Evaluator | None = None,
        eval_steps: Sequence[int] = (),
        n_eval: int = 0,
        metric_names: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.cfg, self.seeds = cfg, list(seeds)
        self.student = one_step_generator(self.seeds, cfg.latent_dim, hidden, cfg.data_dim)
        self.real_sampler, self.batch, self.blur = real_sampler, batch, blur
        self.evaluator, self.eval_steps, self.n_eval, self.metric_names = evaluator, list(eval_steps), n_eval, list(metric_names)
        shape = (len(self.eval_steps), len(self.seeds), len(self.metric_names))
        self.register_buffer("trajectory", torch.full(shape, float("nan")))

    def _latents(self, step: int, stream: int, n: int) -> torch.Tensor:
        return torch.stack([torch.randn(n, self.cfg.latent_dim, generator=step_generator(s, step, stream)) for s in self.seeds])

    def samples(self, n: int) -> torch.Tensor:
        """n samples per seed from the students' fixed evaluation latents (the same z as the students')."""
        with torch.no_grad():
            return self.student(self._latents(EVAL_STREAM_STEP, 0, n).to(self.trajectory.device))

    def record(self, k: int) -> None:
        if self.evaluator is not None:
            metrics = self.evaluator(self.samples(self.n_eval).cpu())
            self.trajectory[k] = torch.stack([metrics[m].float() for m in self.metric_names], dim=1)

    def training_loss(self, step: int) -> torch.Tensor:
        """One Sinkhorn divergence per seed between a batch of generated and of data points."""
        if step in self.eval_steps:
            self.record(self.eval_steps.index(step))
        device = self.trajectory.device
        real = torch.stack([self.real_sampler(step_generator(s, step, 73), self.batch) for s in self.seeds]).to(device)
        fake = self.student(self._latents(step, 72, self.batch).to(device))
        return sinkhorn_divergence(fake, real, blur=self.blur)

    def configure_optimizer(self) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
        """The students' optimiser: AdamW (their weight decay) at `lr_student`, their lr schedule over the updates."""
        c = self.cfg
        optimizer = torch.optim.AdamW(self.student.parameters(), lr=c.lr_student, weight_decay=c.weight_decay)
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda done: student_lr_factor(c, done))
