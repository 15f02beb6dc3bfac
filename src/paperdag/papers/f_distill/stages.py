"""The f-distill jobs: `toy`, `digits_prep`, `digits`, `download`, `report` (see `spec`)."""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any

import numpy as np
import torch

from paperdag.curves import tail_delta
from paperdag.papers.f_distill.distill import Discriminator, DistillConfig, DistillTask, SharedTeacher, distill_config, slots
from paperdag.papers.f_distill.edm import Denoiser, DenoiserTask, MixtureTeacher
from paperdag.papers.f_distill.reference import DirectFit, Sampler, teacher_samples
from paperdag.papers.f_distill.toy import (
    SkewedStart,
    ToyEvaluator,
    area_under,
    collapsed,
    floor_metrics,
    mixture,
    one_step_generator,
    sample_mixture,
)
from paperdag.runs import write_run
from paperdag.seeding import seed_everything, step_generator
from paperdag.stage import Job
from paperdag.training import fit

log = logging.getLogger(__name__)
TOY_METRICS = ["fd", "tv", "coverage", "precision", "recall"]


def _write_runs(
    job: Job,
    task_name: str,
    init: str,
    names: list[str],
    slot_seeds: list[int],
    eval_steps: list[int],
    trajectory: np.ndarray,
    metric_names: list[str],
    final: dict[str, np.ndarray],
    extra: dict[str, Any],
    t0: float,
    settings: dict[str, Any],
) -> None:
    """One metrics.json per slot; outputs are listed in spec order (divergence-major, then seed).
    `settings`: the resolved settings every slot shares; each run adds its divergence and seed."""
    for i, (div, seed) in enumerate(zip(names, slot_seeds)):
        traj = {m: trajectory[:, i, k].tolist() for k, m in enumerate(metric_names)}
        metrics = {
            "task": task_name,
            "init": init,
            "divergence": div,
            "seed": seed,
            "steps": eval_steps[-1],
            "eval_steps": eval_steps,
            "trajectory": traj,
            **{m: float(v[i]) for m, v in final.items()},
            **{f"auc_{m}": area_under(eval_steps, trajectory[:, i, k]) for k, m in enumerate(metric_names)},
            **extra.get(seed, {}),
        }
        run_settings = {"task": task_name, "init": init, "divergence": div, "seed": seed, **settings}
        write_run(job.outputs[i], metrics, config_hash=job.config_hash, seed=seed, started=t0, settings=run_settings)


# ---------------------------------------------------------------- toy
# The paper's ablation of its two normalisations (Fig. 4b): variant → (per-time-bin ratio, batch-mean h).
# The method itself (both on) is the main toy job's run of the same divergence and seeds.
ABLATION = {"no_bin": (False, True), "no_h": (True, False), "none": (False, False)}


def toy(job: Job) -> None:
    """Distil the 2-D mixture teacher with every divergence and seed of one student start."""
    names, _ = slots(job.cfg["toy"]["divergences"], list(job.cfg["seeds"]))
    _distil_toy(job, "toy", job.cfg["init"], names, names, None, references=True)


def toy_ablation(job: Job) -> None:
    """The normalisation ablation: one divergence, each variant of `ABLATION` × every seed, normal start.
    Runs are labelled `<divergence>_<variant>` (e.g. `kl_no_bin`); seeds share draws with the main toy job."""
    ab, seeds = job.cfg["ablation"], list(job.cfg["seeds"])
    variants = list(ab["variants"])
    names = [ab["divergence"] for v in variants for _ in seeds]
    labels = [f"{ab['divergence']}_{v}" for v in variants for _ in seeds]
    norms = [ABLATION[v] for v in variants for _ in seeds]
    _distil_toy(job, "toy_ablation", "normal", names, labels, norms)


def _distil_toy(
    job: Job,
    task_name: str,
    init: str,
    names: list[str],
    labels: list[str],
    norms: list[tuple[bool, bool]] | None,
    references: bool = False,
) -> None:
    """The toy body: `names` are each slot's divergence, `labels` its run's name, `norms` its normalisations
    (None: both on). Slots are divergence-major, then seed, like the job's outputs. `references`: also measure
    the teacher's Heun samples and the direct fit (`reference`), per seed, into every run (`teacher_*`, `direct_*`)."""
    t0 = time.perf_counter()
    cfg, tc = job.cfg, job.cfg["toy"]
    seeds = list(cfg["seeds"])
    seed_everything(seeds[0], threads=job.threads)
    slot_seeds = [s for _ in range(len(names) // len(seeds)) for s in seeds]
    means, weights = mixture(tc["n_modes"], tc["radius"])
    dc = distill_config(cfg["distill"], tc, data_dim=2)

    teacher: torch.nn.Module = MixtureTeacher(means, weights, tc["std"])
    if tc["teacher"] == "mlp":  # the protocol's variant: an MLP denoiser trained on the data
        teacher = SharedTeacher(_train_toy_teacher(job, means, weights, tc, dc))

    student = one_step_generator(slot_seeds, tc["latent_dim"], tc["hidden"])
    if init == "skewed":
        fit(
            SkewedStart(student, slot_seeds, means, tc["skewed_modes"], tc["std"], tc["batch"], tc["pretrain_lr"]),
            steps=tc["pretrain_steps"],
            label=f"{job.label} skewed-start",
            run_labels=[f"{n}/seed{s}" for n, s in zip(names, slot_seeds)],
        )
    fake = Denoiser([s + 1000 for s in slot_seeds], 2, tc["hidden"], tc["sigma_data"])
    disc = Discriminator([s + 2000 for s in slot_seeds], 2, tc["disc_hidden"], tc["sigma_data"])
    reference = sample_mixture(means, weights, tc["std"], tc["n_eval"], step_generator(10**6, 0, 0))
    evaluator = ToyEvaluator(means, weights, reference, k=tc["knn_k"], sinkhorn_blur=tc["sinkhorn_blur"])
    eval_steps = sorted({s for s in tc["eval_steps"] if s < dc.student_steps} | {dc.student_steps})
    real = lambda g, n: sample_mixture(means, weights, tc["std"], n, g)  # noqa: E731
    task = DistillTask(
        dc, names, slot_seeds, student, fake, disc, teacher, real, evaluator, eval_steps, tc["n_eval"], TOY_METRICS, norms
    )
    ckpt = job.checkpoint_dir() / job.config_hash
    fit(
        task,
        steps=dc.total_iterations,
        label=job.label,
        run_labels=[f"{n}/seed{s}" for n, s in zip(labels, slot_seeds)],
        checkpoint_dir=ckpt,
        checkpoint_every=tc["checkpoint_every"],
        accelerator=job.accelerator(),
    )

    samples = task.samples(tc["n_eval"])
    final_evaluator = ToyEvaluator(
        means, weights, reference, k=tc["knn_k"], sinkhorn_blur=tc["sinkhorn_blur"], n_sinkhorn=tc["n_sinkhorn"]
    )
    final_eval = final_evaluator(samples)
    task.trajectory[-1] = torch.stack([final_eval[m].float() for m in TOY_METRICS], 1)
    final = {m: v.double().numpy() for m, v in final_eval.items()}
    # the mode-coverage claims' negative control: the same students collapsed onto their heaviest modes
    pool = task.samples(tc["control_pool"] * tc["n_eval"], stream=1)
    control = ToyEvaluator(means, weights, reference, k=tc["knn_k"], sinkhorn_blur=tc["sinkhorn_blur"])(
        collapsed(pool, means, weights, tc["control_kept_modes"], tc["n_eval"])
    )
    final.update({f"collapsed_{m}": control[m].double().numpy() for m in ("fd", "tv", "recall", "coverage")})
    floors = {s: floor_metrics(means, weights, tc["std"], tc["n_eval"], s, tc["knn_k"]) for s in seeds}
    ref_samples: dict[str, np.ndarray] = {}
    if references:
        refs, ref_samples = _toy_references(job, teacher, real, evaluator, final_evaluator, dc, eval_steps)
        floors = {s: {**floors[s], **refs[s]} for s in seeds}
    settings = {"loop": dataclasses.asdict(dc), "toy": tc}
    if norms is not None:  # the ablation: every run records each slot's divergence and normalisations by value
        per_slot = {lab: {"h": n, "bin": b, "batch_h": h} for lab, n, (b, h) in zip(labels, names, norms)}
        settings = {**settings, "normalisations": per_slot}
    _write_runs(
        job,
        task_name,
        init,
        labels,
        slot_seeds,
        eval_steps,
        task.trajectory.double().numpy(),
        TOY_METRICS,
        final,
        floors,
        t0,
        settings,
    )
    from paperdag.io import atomic_path

    with atomic_path(job.outputs[-1]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                samples=samples[:, :1000].numpy(),
                names=np.array(labels),
                seeds=np.array(slot_seeds),
                reference=reference[:1000].numpy(),
                means=means.numpy(),
                **ref_samples,
            )


def _toy_references(
    job: Job,
    teacher: torch.nn.Module,
    real: Sampler,
    evaluator: ToyEvaluator,
    final_evaluator: ToyEvaluator,
    dc: DistillConfig,
    eval_steps: list[int],
) -> tuple[dict[int, dict[str, float]], dict[str, np.ndarray]]:
    """Per seed: the teacher reference's final metrics (`teacher_*`) and the direct fit's (`direct_*`, and
    `direct_tail_<metric>`: its change over the last fifth of training), by the students' evaluators; and the
    first 1000 samples of each per seed (`teacher`, `direct`: seeds in config order) for the figures."""
    tc, seeds = job.cfg["toy"], list(job.cfg["seeds"])
    x_teacher = teacher_samples(
        teacher, seeds, tc["n_eval"], 2, tc["teacher_sampler_steps"], tc["sigma_min"], tc["teacher_sampler_sigma_max"]
    )
    df = tc["direct_fit"]
    fitted = DirectFit(dc, seeds, tc["hidden"], real, df["batch"], df["blur"], evaluator, eval_steps, tc["n_eval"], TOY_METRICS)
    history = fit(
        fitted,
        steps=dc.student_steps,
        label=f"{job.label} direct-fit",
        run_labels=[f"direct/seed{s}" for s in seeds],
        accelerator=job.accelerator(),
    )
    x_direct = fitted.samples(tc["n_eval"]).cpu()
    direct = final_evaluator(x_direct)
    fitted.trajectory[-1] = torch.stack([direct[m].float() for m in TOY_METRICS], 1)
    traj = fitted.trajectory.double().numpy()
    teacher_eval = final_evaluator(x_teacher)
    out: dict[int, dict[str, float]] = {}
    for i, s in enumerate(seeds):
        out[s] = {f"teacher_{m}": float(v[i]) for m, v in teacher_eval.items()}
        out[s].update({f"direct_{m}": float(v[i]) for m, v in direct.items()})
        out[s].update({f"direct_tail_{m}": tail_delta(eval_steps, traj[:, i, k]) for k, m in enumerate(TOY_METRICS)})
        out[s]["direct_loss_first"], out[s]["direct_loss_last"] = history[0][1][i], history[-1][1][i]
    return out, {"teacher": x_teacher[:, :1000].numpy(), "direct": x_direct[:, :1000].numpy()}


def _train_toy_teacher(job: Job, means, weights, tc: dict[str, Any], dc: DistillConfig) -> Denoiser:
    mt = tc["mlp_teacher"]
    model = Denoiser([12345], 2, mt["hidden"], tc["sigma_data"])
    sampler = lambda g, n: sample_mixture(means, weights, tc["std"], n, g)  # noqa: E731
    fit(
        DenoiserTask(model, sampler, mt["batch"], mt["lr"], mt["p_mean"], mt["p_std"], 12345),
        steps=mt["steps"],
        label=f"{job.label} mlp-teacher",
        run_labels=["teacher"],
    )
    return model


# ---------------------------------------------------------------- download (paper scale)
def download(job: Job) -> None:
    """A checked download (URL + sha256 from config) for paper-scale teachers and FID references."""
    from paperdag.data import download as fetch

    spec = job.cfg["download"]
    fetch(spec["url"], job.outputs[0], spec["sha256"])


# ---------------------------------------------------------------- report
def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.f_distill.claims import claims
    from paperdag.papers.f_distill.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
