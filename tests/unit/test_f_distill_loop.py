"""The f-distill loop's student schedule: a warm-up, then a cosine or linear decay of the student's rate
(only) to a final fraction over its updates, and an EMA of the student's weights that is what gets evaluated."""

from __future__ import annotations

import math

import pytest
import torch
import yaml

from paperdag.config import resolve_paper
from paperdag.nn import BatchedMLP
from paperdag.papers.f_distill.distill import Discriminator, DistillTask, distill_config, slots, student_lr_factor
from paperdag.papers.f_distill.edm import Denoiser, MixtureTeacher
from paperdag.papers.f_distill.toy import mixture
from paperdag.stage import PROJECT_ROOT

CFG = resolve_paper(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()), "f_distill", "smoke")


def _student_lrs(task: DistillTask) -> list[list[float]]:
    """Every group's lr at each iteration of a run of `task`'s schedule."""
    optimizer, schedule = task.configure_optimizer()
    lrs = []
    for _ in range(task.cfg.total_iterations):
        lrs.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        schedule.step()
    return lrs


def _task(**fixed) -> DistillTask:
    tc = CFG["toy"]
    dc = distill_config(CFG["distill"], tc, data_dim=2, **fixed)
    names, seeds = slots(["rkl", "kl"], [0])
    means, weights = mixture(tc["n_modes"], tc["radius"])
    student = BatchedMLP(seeds, [tc["latent_dim"], 16, 2])
    fake = Denoiser([s + 1000 for s in seeds], 2, [16], tc["sigma_data"])
    disc = Discriminator([s + 2000 for s in seeds], 2, [16], tc["sigma_data"])
    return DistillTask(
        dc, names, seeds, student, fake, disc, MixtureTeacher(means, weights, tc["std"]), lambda g, n: torch.zeros(n, 2)
    )


def test_cosine_decays_only_the_student_lr_to_zero_over_its_updates() -> None:
    task = _task(
        student_lr_schedule="cosine", student_lr_final=0.0, student_lr_warmup=0, student_ema=0.0, fake_warmup=10, student_steps=20
    )
    lrs, c = _student_lrs(task), task.cfg
    assert lrs[0] == [c.lr_student, c.lr_fake, c.lr_disc]
    assert lrs[c.fake_warmup][0] == c.lr_student  # the first student update runs at the peak
    assert lrs[-1][0] < 0.01 * c.lr_student and lrs[-1][1:] == [c.lr_fake, c.lr_disc]
    assert all(a[0] >= b[0] for a, b in zip(lrs, lrs[1:]))
    # the student's lr changes only between student updates (the critics' iterations keep it)
    updates = [i for i in range(c.total_iterations) if task.is_student_step(i)]
    assert lrs[updates[3]][0] == pytest.approx(c.lr_student * 0.5 * (1 + math.cos(math.pi * 3 / 20)))


@pytest.mark.parametrize("shape", ["cosine", "linear"])
def test_warmup_then_decay_to_the_final_fraction(shape: str) -> None:
    task = _task(
        student_lr_schedule=shape,
        student_lr_final=0.1,
        student_lr_warmup=4,
        student_ema=0.0,
        fake_warmup=10,
        student_steps=24,
        lr_student=1.0,
    )
    lrs, c = _student_lrs(task), task.cfg
    student = [lrs[i][0] for i in range(c.total_iterations) if task.is_student_step(i)]
    assert student[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])  # linear warm-up to the peak
    assert student[4] == 1.0 and all(a >= b for a, b in zip(student[4:], student[5:]))
    assert student[-1] == pytest.approx(0.1 + 0.9 * (1 / 20 if shape == "linear" else 0.5 * (1 - math.cos(math.pi / 20))))
    assert student_lr_factor(c, c.student_steps) == pytest.approx(0.1)  # the decay ends at the final fraction
    assert all(lr[1:] == [c.lr_fake, c.lr_disc] for lr in lrs)
    if shape == "linear":
        assert student[14] == pytest.approx(0.1 + 0.9 * (1 - 10 / 20))


def test_an_unknown_schedule_is_rejected() -> None:
    with pytest.raises(ValueError, match="student_lr_schedule"):
        _task(student_lr_schedule="step", student_ema=0.0).configure_optimizer()


def test_constant_schedule_returns_a_plain_optimizer() -> None:
    assert isinstance(_task(student_lr_schedule="constant", student_ema=0.0).configure_optimizer(), torch.optim.Optimizer)


def test_ema_weights_are_evaluated_and_follow_the_student_after_student_updates_only() -> None:
    task = _task(student_ema=0.5, student_lr_schedule="constant")
    before = task.samples(8)
    with torch.no_grad():
        for p in task.student.parameters():
            p.add_(1.0)
    task.after_step()  # no student update happened: the EMA stays put
    assert torch.equal(task.samples(8), before)
    task._student_updated = True
    task.after_step()  # rate 0.5: halfway toward the student
    for e, s in zip(task.student_ema.parameters(), task.student.parameters()):
        assert torch.allclose(e, s - 0.5)
