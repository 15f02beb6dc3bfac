"""The f-distill training loop (paper §3, checked against FastGen `f_distill.py` per the protocol):
a one-step student, a fake score trained by denoising score matching on student samples, and a
discriminator on (x_t, σ) whose logit estimates log(p_teacher/q_student).

Every divergence and seed of a setting is one model slot along the leading axis M. Slots with the
same seed get the same initial weights and the same random draws, so differences between
divergences are paired seed by seed.

Iteration i (one `paperdag.training.fit` step): the first `fake_warmup` iterations update only the
fake score and discriminator (the toy's fake score cannot start as a teacher copy when the teacher
is analytic); after that every `fake_every`-th iteration is a student update and the others update
the fake score and discriminator (the 5:1 schedule).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.papers.f_distill.divergences import bin_normalise, density_ratio, normalised_weights
from paperdag.papers.f_distill.edm import edm_weight, karras_grid, sample_grid_indices, time_bins
from paperdag.seeding import step_generator
from paperdag.training import LR_SHAPES, lr_factor

EVAL_STREAM_STEP = 10**7  # step index reserved for the fixed evaluation latents


@dataclass
class DistillConfig:
    """The loop's settings; every value comes from config.yaml (`distill_config`), none defaults here."""

    batch: int
    latent_dim: int
    data_dim: int
    sigma_min: float
    sigma_max: float
    sigma_data: float
    n_grid: int
    grid_lo: int
    grid_hi: int
    n_bins: int
    ratio_ema: float
    logit_clamp: float
    r_min: float
    r_max: float
    gan_weight: float
    fake_every: int
    fake_warmup: int
    lr_student: float
    lr_fake: float
    lr_disc: float
    weight_decay: float
    student_steps: int
    student_ema: float  # EMA rate of the student's weights; the EMA weights are evaluated (0: the raw student)
    student_lr_schedule: str  # "constant", "cosine" or "linear": the shape of the student's lr decay over its updates
    student_lr_final: float  # the student's lr at its last update, as a fraction of lr_student (decaying schedules)
    student_lr_warmup: int  # student updates of linear warm-up from lr_student / warmup to lr_student

    @property
    def total_iterations(self) -> int:
        return self.fake_warmup + self.student_steps * self.fake_every


class Discriminator(nn.Module):
    """M MLPs on (c_in·x_t, log σ / 4) → one logit; trained with real = 1, so logit ≈ log p_t/q_t."""

    def __init__(self, seeds: Sequence[int], dim: int, hidden: Sequence[int], sigma_data: float) -> None:
        super().__init__()
        self.sigma_data = sigma_data
        self.net = BatchedMLP(seeds, [dim + 1, *hidden, 1], activation=nn.functional.silu)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        sigma = sigma.expand(x.shape[:-1]).unsqueeze(-1)
        c_in = 1 / (sigma**2 + self.sigma_data**2).sqrt()
        return self.net(torch.cat([c_in * x, sigma.log() / 4], dim=-1)).squeeze(-1)


class SharedTeacher(nn.Module):
    """A frozen one-model batched denoiser applied to every slot's inputs."""

    def __init__(self, denoiser: nn.Module) -> None:
        super().__init__()
        self.denoiser = denoiser.requires_grad_(False)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        m, n, d = x.shape
        return self.denoiser(x.reshape(1, m * n, d), sigma.expand(m, n).reshape(1, m * n)).reshape(m, n, d)


class OneStep(nn.Module):
    """The one-step generator x0 = D_G(σ_max·z, σ_max), a denoiser started from the teacher."""

    def __init__(self, denoiser: nn.Module, sigma_max: float) -> None:
        super().__init__()
        self.denoiser, self.sigma_max = denoiser, sigma_max

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.denoiser(self.sigma_max * z, torch.full(z.shape[:-1], self.sigma_max, device=z.device))


class DistillTask(nn.Module):
    """The batched f-distill task for `paperdag.training.fit`; `training_loss` returns one loss per slot."""

    def __init__(
        self,
        cfg: DistillConfig,
        names: Sequence[str],
        seeds: Sequence[int],
        student: nn.Module,
        fake: nn.Module,
        disc: nn.Module,
        teacher: nn.Module,
        real_sampler: Callable[[torch.Generator, int], torch.Tensor],
        evaluator: Callable[[torch.Tensor], dict[str, torch.Tensor]] | None = None,
        eval_steps: Sequence[int] = (),
        n_eval: int = 0,
        metric_names: Sequence[str] = (),
        normalisations: Sequence[tuple[bool, bool]] | None = None,
    ) -> None:
        super().__init__()
        self.cfg, self.names = cfg, list(names)
        self.unique_seeds = sorted(set(seeds))
        self.register_buffer("slot_seed", torch.tensor([self.unique_seeds.index(s) for s in seeds]))
        self.student, self.fake, self.disc, self.teacher = student, fake, disc, teacher
        self.teacher.requires_grad_(False)
        self.real_sampler, self.evaluator = real_sampler, evaluator
        self.register_buffer("grid", karras_grid(cfg.n_grid, cfg.sigma_min, cfg.sigma_max))
        self.register_buffer("ratio_ema", torch.ones(len(seeds), cfg.n_bins))
        self.eval_steps, self.n_eval, self.metric_names = list(eval_steps), n_eval, list(metric_names)
        self.register_buffer("trajectory", torch.full((len(self.eval_steps), len(seeds), len(self.metric_names)), float("nan")))
        self.register_buffer("last_stats", torch.zeros(len(seeds), 3))  # mean r, max h, GAN term
        # Per slot: (ratio divided by its time bin's mean, h divided by its batch mean); both on in the method,
        # off in the paper's ablation of its two normalisations.
        norms = torch.tensor(list(normalisations) if normalisations is not None else [(True, True)] * len(seeds))
        self.register_buffer("bin_norm", norms[:, 0].bool())
        self.register_buffer("h_norm", norms[:, 1].bool())
        # The evaluated student: an EMA of the trained one's weights (FastGen keeps one for its generators),
        # updated after every student update; with student_ema = 0 it is the trained student itself.
        self.student_ema = copy.deepcopy(student).requires_grad_(False) if cfg.student_ema > 0 else None
        self._student_updated = False

    # --- random draws: one per seed, shared by every divergence slot of that seed ---
    def _per_seed(self, step: int, stream: int, make: Callable[[torch.Generator], torch.Tensor]) -> torch.Tensor:
        draws = torch.stack([make(step_generator(s, step, stream)) for s in self.unique_seeds])
        return draws.to(self.grid.device)[self.slot_seed]  # drawn on the CPU: identical on any device

    def _latents(self, step: int, stream: int, n: int) -> torch.Tensor:
        return self._per_seed(step, stream, lambda g: torch.randn(n, self.cfg.latent_dim, generator=g))

    def _noise(self, step: int, stream: int, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        c = self.cfg
        idx = self._per_seed(step, stream, lambda g: sample_grid_indices((n,), c.grid_lo, c.grid_hi, g))
        eps = self._per_seed(step, stream + 1, lambda g: torch.randn(n, c.data_dim, generator=g))
        return idx, self.grid[idx], eps

    def samples(self, n: int, stream: int = 0) -> torch.Tensor:
        """n samples per slot of the evaluated student (the EMA, if any) from fixed evaluation latents
        (the same for every divergence; `stream` picks another fixed set)."""
        with torch.no_grad():
            model = self.student if self.student_ema is None else self.student_ema
            return model(self._latents(EVAL_STREAM_STEP, stream, n))

    @torch.no_grad()
    def after_step(self) -> None:
        """After a student update: move the EMA weights toward the student's."""
        if self.student_ema is not None and self._student_updated:
            ema, live = list(self.student_ema.parameters()), list(self.student.parameters())
            torch._foreach_lerp_(ema, live, 1.0 - self.cfg.student_ema)
        self._student_updated = False

    # --- the two updates ---
    def student_loss(self, step: int) -> torch.Tensor:
        c = self.cfg
        x0 = self.student(self._latents(step, 0, c.batch))
        idx, sigma, eps = self._noise(step, 1, c.batch)
        x_t = x0 + sigma.unsqueeze(-1) * eps
        with torch.no_grad():
            x_t_ng = x_t.detach()
            pred_teacher = self.teacher(x_t_ng, sigma)
            pred_fake = self.fake(x_t_ng, sigma)
            r = density_ratio(self.disc(x_t_ng, sigma), c.logit_clamp, c.r_min, c.r_max)
            r_bin = bin_normalise(r, time_bins(idx, c.grid_lo, c.grid_hi, c.n_bins), self.ratio_ema, c.ratio_ema)
            r = torch.where(self.bin_norm.unsqueeze(-1), r_bin, r)
            h = normalised_weights(self.names, r, self.h_norm)
            w = 1.0 / ((x0.detach() - pred_teacher).abs().mean(-1, keepdim=True) + 1e-6)
            grad = (pred_fake - pred_teacher) * w * h.unsqueeze(-1)
        dm = 0.5 * ((x0 - (x0 - grad).detach()) ** 2).mean(dim=(1, 2))
        self.disc.requires_grad_(False)  # the GAN term trains the student only
        gan = nn.functional.softplus(-self.disc(x_t, sigma)).mean(1)
        self.disc.requires_grad_(True)
        self.last_stats.copy_(torch.stack([r.mean(1), h.max(1).values, gan.detach()], 1))
        return dm + c.gan_weight * gan

    def critic_loss(self, step: int) -> torch.Tensor:
        c = self.cfg
        with torch.no_grad():
            x0 = self.student(self._latents(step, 3, c.batch))
        _, sigma, eps = self._noise(step, 4, c.batch)
        x_t = x0 + sigma.unsqueeze(-1) * eps
        dsm = (edm_weight(sigma, c.sigma_data) * ((self.fake(x_t, sigma) - x0) ** 2).mean(-1)).mean(1)
        real = self._per_seed(step, 6, lambda g: self.real_sampler(g, c.batch))
        _, sigma_r, eps_r = self._noise(step, 7, c.batch)
        d_fake = nn.functional.softplus(self.disc(x_t, sigma)).mean(1)
        d_real = nn.functional.softplus(-self.disc(real + sigma_r.unsqueeze(-1) * eps_r, sigma_r)).mean(1)
        return dsm + d_fake + d_real

    def is_student_step(self, step: int) -> bool:
        j = step - self.cfg.fake_warmup
        return j >= 0 and j % self.cfg.fake_every == 0

    def student_updates_before(self, step: int) -> int:
        j = step - self.cfg.fake_warmup
        return 0 if j <= 0 else (j - 1) // self.cfg.fake_every + 1

    def training_loss(self, step: int) -> torch.Tensor:
        if self.is_student_step(step):
            done = self.student_updates_before(step)
            if done in self.eval_steps:
                self.record(self.eval_steps.index(done))
            self.fake.requires_grad_(False)
            loss = self.student_loss(step)
            self.fake.requires_grad_(True)
            self._student_updated = True
            return loss
        return self.critic_loss(step)

    def record(self, k: int) -> None:
        """Evaluate every slot's samples and store row k of the trajectory (kept in checkpoints)."""
        if self.evaluator is None:
            return
        metrics = self.evaluator(self.samples(self.n_eval).cpu())
        self.trajectory[k] = torch.stack([metrics[m].float() for m in self.metric_names], dim=1)

    def configure_optimizer(self) -> torch.optim.Optimizer | tuple[torch.optim.Optimizer, Any]:
        """AdamW with one group each for the student, the fake score and the discriminator; the student's lr
        follows `student_lr_factor` over its updates (the critics keep theirs)."""
        c = self.cfg
        groups = [
            {"params": list(self.student.parameters()), "lr": c.lr_student},
            {"params": list(self.fake.parameters()), "lr": c.lr_fake},
            {"params": list(self.disc.parameters()), "lr": c.lr_disc},
        ]
        optimizer = torch.optim.AdamW(groups, weight_decay=c.weight_decay)
        student_lr_factor(c, 0)  # rejects an unknown schedule before training starts
        if c.student_lr_schedule == "constant" and c.student_lr_warmup == 0:
            return optimizer

        def student_factor(step: int) -> float:  # step: iterations done; the factor for the next update
            return student_lr_factor(c, self.student_updates_before(step))

        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, [student_factor, lambda _: 1.0, lambda _: 1.0])


def student_lr_factor(c: DistillConfig, done: int) -> float:
    """The student's lr as a fraction of `lr_student` for its update after `done` updates: a linear warm-up
    over `student_lr_warmup` updates, then constant, or a cosine or linear decay from 1 to `student_lr_final`
    at the last update (`paperdag.training.lr_factor`)."""
    if c.student_lr_schedule not in LR_SHAPES:
        raise ValueError(f"student_lr_schedule: {c.student_lr_schedule!r}")
    return lr_factor(done, c.student_steps, c.student_lr_warmup, c.student_lr_final, c.student_lr_schedule)


def distill_config(shared: dict[str, Any], task: dict[str, Any], data_dim: int, **fixed: Any) -> DistillConfig:
    """The loop settings of one task: the shared §2.3 settings, then the task's sizes and rates."""
    keys = DistillConfig.__dataclass_fields__
    merged = {**{k: v for k, v in shared.items() if k in keys}, **{k: v for k, v in task.items() if k in keys}, **fixed}
    return DistillConfig(data_dim=data_dim, **merged)


def slots(divergences: list[str], seeds: list[int]) -> tuple[list[str], list[int]]:
    """Divergence and seed of each model slot: divergence-major, then seed."""
    names = [d for d in divergences for _ in seeds]
    return names, [s for _ in divergences for s in seeds]
