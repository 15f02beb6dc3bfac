"""Task T2: scikit-learn's bundled 8×8 digits (1797 images, scaled to [−1, 1]); a small EDM MLP
teacher, a one-step student started from it, and the metrics.

Metrics per run (same n for every divergence): "FD-digits", the Fréchet distance in the
penultimate-layer features of a digits classifier trained in the pipeline (NOT FID); the total
variation between the predicted class histogram of the samples and the data's; k-NN precision and
recall in the same features; and KID (`paperdag.metrics.kernel_distance`, unbiased at small n) in
Inception pool3 features on `n_kid` samples against `n_kid` real digits. Beside them, measured once
in `digits_prep` at the same sample sizes: the real-vs-real floor of every metric (two disjoint
sets of real digits; for KID, several disjoint pairs, mean and sd) and the teacher reference (the
same metrics of the teacher's own multi-step Heun samples). The low-n Inception FID is gone: at 32
samples it measured mostly its own bias (two real sets scored 66.6).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np
import torch
from torch import nn

from paperdag.io import atomic_path
from paperdag.metrics import frechet_distance_from_stats, gaussian_stats, kernel_distance
from paperdag.nn import BatchedMLP
from paperdag.papers.f_distill.distill import Discriminator, DistillTask, OneStep, SharedTeacher, distill_config, slots
from paperdag.papers.f_distill.edm import Denoiser, DenoiserTask, heun_sample, replicate
from paperdag.papers.f_distill.toy import area_under, knn_precision_recall
from paperdag.runs import write_run
from paperdag.seeding import seed_everything, step_generator
from paperdag.stage import Job
from paperdag.training import History, fit

METRICS = ["fd_digits", "class_tv", "precision", "recall"]
REAL_SEED = 4242


def load_digits_data() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return torch.tensor(d.data / 16.0 * 2 - 1, dtype=torch.float32), torch.tensor(d.target)


class Classifier(nn.Module):
    """An MLP digits classifier; its penultimate layer is the FD-digits feature space."""

    def __init__(self, hidden: list[int], seed: int = 7) -> None:
        super().__init__()
        self.body = BatchedMLP([seed], [64, *hidden], activation=torch.relu)
        self.head = BatchedMLP([seed + 1], [hidden[-1], 10])

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x.reshape(1, -1, 64))).reshape(*x.shape[:-1], -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        return self.head(f.reshape(1, -1, f.shape[-1])).reshape(*x.shape[:-1], 10)


class ClassifierTask(nn.Module):
    def __init__(self, model: Classifier, x: torch.Tensor, y: torch.Tensor, batch: int, lr: float) -> None:
        super().__init__()
        self.model, self.x, self.y, self.batch, self.lr = model, x, y, batch, lr

    def training_loss(self, step: int) -> torch.Tensor:
        i = torch.randint(len(self.x), (self.batch,), generator=step_generator(7, step, 41))
        return nn.functional.cross_entropy(self.model(self.x[i]), self.y[i]).reshape(1)

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


def digits_prep(job: Job) -> None:
    """Train the teacher and the classifier; cache the real data's feature statistics."""
    t0 = time.perf_counter()
    c = job.cfg["digits"]
    seed_everything(REAL_SEED, threads=job.threads)
    x, y = load_digits_data()
    clf = Classifier(c["classifier"]["hidden"])
    fit(
        ClassifierTask(clf, x, y, c["classifier"]["batch"], c["classifier"]["lr"]),
        steps=c["classifier"]["steps"],
        label=f"{job.label} classifier",
        run_labels=["classifier"],
    )
    tc = c["teacher"]
    teacher = Denoiser([REAL_SEED], 64, tc["hidden"], c["sigma_data"])
    sampler = lambda g, n: x[torch.randint(len(x), (n,), generator=g)]  # noqa: E731
    fit(
        DenoiserTask(teacher, sampler, tc["batch"], tc["lr"], tc["p_mean"], tc["p_std"], REAL_SEED),
        steps=tc["steps"],
        label=f"{job.label} teacher",
        run_labels=["teacher"],
    )
    n, n_kid, n_pairs = c["n_eval"], c["n_kid"], c["kid_floor_pairs"]
    if 2 * n + (n_pairs + 1) * n_kid > len(x):
        raise ValueError(f"digits: 2·n_eval + (kid_floor_pairs + 1)·n_kid = {2 * n + (n_pairs + 1) * n_kid} > {len(x)} images")
    with torch.no_grad():
        accuracy = float((clf(x).argmax(-1) == y).float().mean())
        perm = torch.randperm(len(x), generator=step_generator(REAL_SEED, 0, 51))
        ref, other = x[perm[:n]], x[perm[n : 2 * n]]  # disjoint: the reference and the floor's second set
        feats = clf.features(ref).double().numpy()
        hist = np.bincount(clf(ref).argmax(-1).numpy(), minlength=10) / len(ref)
    mu, sigma = gaussian_stats(feats)
    stats: dict[str, Any] = dict(
        mu=mu, sigma=sigma, features=feats, class_hist=hist, accuracy=accuracy, real_images=ref[:64].numpy()
    )
    evaluator = DigitsEvaluator(clf, stats, c["knn_k"])
    teacher_x = heun_sample(
        teacher, n, 64, c["teacher_sampler_steps"], c["sigma_min"], c["sigma_max"], step_generator(REAL_SEED, 0, 61)
    )
    stats["teacher_images"] = teacher_x[:64].clamp(-1, 1).numpy()
    for prefix, sample in (("floor", other), ("teacher", teacher_x)):
        for k, v in evaluator(sample[None]).items():
            stats[f"{prefix}_{k}"] = float(v[0])
    if n_kid:
        from paperdag.papers.f_distill.inception import inception_features, load_inception

        net = load_inception(c["inception_weights"])
        kid_real = x[perm[len(x) - (n_pairs + 1) * n_kid :]].reshape(n_pairs + 1, n_kid, 8, 8)
        inc = inception_features(net, kid_real.reshape(-1, 8, 8)).reshape(n_pairs + 1, n_kid, -1)
        stats["inception_features"] = inc[0]  # the KID reference set
        floors = [kernel_distance(inc[i + 1], inc[0]) for i in range(n_pairs)]
        stats["floor_kid"], stats["floor_kid_sd"] = float(np.mean(floors)), float(np.std(floors, ddof=1)) if n_pairs > 1 else 0.0
        stats["teacher_kid"] = kernel_distance(inception_features(net, teacher_x[:n_kid].clamp(-1, 1).reshape(-1, 8, 8)), inc[0])
    with atomic_path(job.outputs[0]) as tmp:
        torch.save(
            {
                "classifier": clf.state_dict(),
                "teacher": teacher.state_dict(),
                "accuracy": accuracy,
                "train_s": time.perf_counter() - t0,
            },
            tmp,
        )
    with atomic_path(job.outputs[1]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **stats)


class DigitsEvaluator:
    """FD-digits, class-histogram TV and k-NN precision/recall of every slot's samples."""

    def __init__(self, clf: Classifier, stats: Any, k: int) -> None:
        self.clf, self.k = clf, k
        self.mu, self.sigma = stats["mu"], stats["sigma"]
        self.real_feats = torch.tensor(stats["features"], dtype=torch.float32)
        self.class_hist = torch.tensor(stats["class_hist"], dtype=torch.float32)

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = x.clamp(-1, 1)
        feats = self.clf.features(x)
        hist = nn.functional.one_hot(self.clf(x).argmax(-1), 10).float().mean(1)
        real = self.real_feats[: x.shape[1]].expand(x.shape[0], -1, -1)
        precision, recall = knn_precision_recall(real, feats, self.k)
        fd = [frechet_distance_from_stats(*gaussian_stats(f.double().numpy()), self.mu, self.sigma) for f in feats]
        return {
            "fd_digits": torch.tensor(fd),
            "class_tv": 0.5 * (hist - self.class_hist).abs().sum(-1),
            "precision": precision,
            "recall": recall,
        }


def digits(job: Job) -> None:
    """Distil the digits teacher with every configured divergence and seed, as one batched model."""
    t0 = time.perf_counter()
    cfg, c = job.cfg, job.cfg["digits"]
    seeds = list(cfg["seeds"])
    seed_everything(seeds[0], threads=job.threads)
    names, slot_seeds = slots(c["divergences"], seeds)
    m = len(names)
    saved = torch.load(job.inputs[0], weights_only=True)
    stats = dict(np.load(job.inputs[1]))
    clf = Classifier(c["classifier"]["hidden"])
    clf.load_state_dict(saved["classifier"])
    teacher = Denoiser([REAL_SEED], 64, c["teacher"]["hidden"], c["sigma_data"])
    teacher.load_state_dict(saved["teacher"])
    x, _ = load_digits_data()
    dc = distill_config(cfg["distill"], c, data_dim=64, latent_dim=64)  # z has the data's shape (x0 = G(σ_max·z))
    student = OneStep(replicate(teacher, m), c["sigma_max"])
    fake = replicate(teacher, m)
    disc = Discriminator([s + 2000 for s in slot_seeds], 64, c["disc_hidden"], c["sigma_data"])
    evaluator = DigitsEvaluator(clf, stats, c["knn_k"])
    eval_steps = sorted({s for s in c["eval_steps"] if s < dc.student_steps} | {dc.student_steps})
    real = lambda g, n: x[torch.randint(len(x), (n,), generator=g)]  # noqa: E731
    task = DistillTask(
        dc, names, slot_seeds, student, fake, disc, SharedTeacher(teacher), real, evaluator, eval_steps, c["n_eval"], METRICS
    )
    run_labels = [f"{n}/seed{s}" for n, s in zip(names, slot_seeds)]
    history = fit(
        task,
        steps=dc.total_iterations,
        label=job.label,
        run_labels=run_labels,
        checkpoint_dir=job.checkpoint_dir() / job.config_hash,
        checkpoint_every=c["checkpoint_every"],
        accelerator=job.accelerator(),
    )
    samples = task.samples(c["n_eval"])
    final_eval = evaluator(samples)
    task.trajectory[-1] = torch.stack([final_eval[k].float() for k in METRICS], 1)
    final = {k: v.double().numpy() for k, v in final_eval.items()}
    if c["n_kid"]:
        from paperdag.papers.f_distill.inception import inception_features, load_inception

        net = load_inception(c["inception_weights"])
        feats = inception_features(net, samples[:, : c["n_kid"]].clamp(-1, 1).reshape(-1, 8, 8)).reshape(m, c["n_kid"], -1)
        final["kid"] = np.array([kernel_distance(f, stats["inception_features"]) for f in feats])
    reference = {k: float(v) for k, v in stats.items() if k.startswith(("floor_", "teacher_")) and np.ndim(v) == 0}
    traj = task.trajectory.double().numpy()
    # training curves in student steps: the losses as logged, the validation metric (FD-digits) at eval_steps
    # FD-digits of one student moves by ±15 % between evaluations on its plateau (fixed evaluation
    # latents: the student itself oscillates), so the stored validation curve is the running mean of
    # the last `smooth_evals` evaluations and the run's converged value `fd_digits_tail` the mean of
    # the evaluations in the last fifth of training.
    w = c["smooth_evals"]
    fd = traj[:, :, 0]
    smoothed = np.stack([fd[max(0, k - w + 1) : k + 1].mean(0) for k in range(len(fd))])
    tail = np.asarray(eval_steps) >= eval_steps[-1] - 0.2 * (eval_steps[-1] - eval_steps[0])
    final["fd_digits_tail"] = fd[tail].mean(0)
    curves = History(
        [(task.student_updates_before(s), v) for s, v in history], [(s, smoothed[k].tolist()) for k, s in enumerate(eval_steps)]
    )
    for i, (div, seed) in enumerate(zip(names, slot_seeds)):
        metrics = {
            "task": "digits",
            "init": "normal",
            "divergence": div,
            "seed": seed,
            "steps": eval_steps[-1],
            "eval_steps": eval_steps,
            "trajectory": {k: traj[:, i, j].tolist() for j, k in enumerate(METRICS)},
            **{k: float(v[i]) for k, v in final.items()},
            **{f"auc_{k}": area_under(eval_steps, traj[:, i, j]) for j, k in enumerate(METRICS)},
            "curve": curves.curve(i),
            **reference,
            "classifier_accuracy": float(stats["accuracy"]),
            "n_kid": c["n_kid"],
            "n_eval": c["n_eval"],
            "dataset": "sklearn load_digits (8x8)",
        }
        settings = {
            "task": "digits",
            "init": "normal",
            "divergence": div,
            "seed": seed,
            "loop": dataclasses.asdict(dc),
            "digits": c,
        }
        write_run(job.outputs[i], metrics, config_hash=job.config_hash, seed=seed, started=t0, settings=settings)
    with atomic_path(job.outputs[-1]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                samples=samples[:, :64].clamp(-1, 1).numpy(),
                names=np.array(names),
                seeds=np.array(slot_seeds),
                real=stats["real_images"],
                teacher=stats["teacher_images"],
            )
