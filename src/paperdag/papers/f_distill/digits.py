"""Task T2: scikit-learn's bundled 8×8 digits (1797 images, scaled to [−1, 1]); a small EDM MLP
teacher, a one-step student started from it, and the metrics.

Metrics per run (same n for every divergence): "FD-digits", the Fréchet distance in the
penultimate-layer features of a digits classifier trained in the pipeline (NOT FID); the total
variation between the predicted class histogram of the samples and the data's; k-NN precision and
recall in the same features; and Inception FID on `n_fid` samples against the cached statistics
of `n_fid` real digits (a small-n FID is strongly biased upward: compare methods, not papers).
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from paperdag.io import atomic_path
from paperdag.metrics import frechet_distance_from_stats, gaussian_stats
from paperdag.nn import BatchedMLP
from paperdag.papers.f_distill.distill import Discriminator, DistillTask, OneStep, SharedTeacher, distill_config, slots
from paperdag.papers.f_distill.edm import Denoiser, DenoiserTask, replicate
from paperdag.papers.f_distill.toy import area_under, knn_precision_recall
from paperdag.runs import write_run
from paperdag.seeding import seed_everything, step_generator
from paperdag.stage import Job
from paperdag.training import fit

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
    fit(ClassifierTask(clf, x, y, c["classifier"]["batch"], c["classifier"]["lr"]), steps=c["classifier"]["steps"],
        label=f"{job.label} classifier", run_labels=["classifier"])
    tc = c["teacher"]
    teacher = Denoiser([REAL_SEED], 64, tc["hidden"], c["sigma_data"])
    sampler = lambda g, n: x[torch.randint(len(x), (n,), generator=g)]  # noqa: E731
    fit(DenoiserTask(teacher, sampler, tc["batch"], tc["lr"], tc["p_mean"], tc["p_std"], REAL_SEED), steps=tc["steps"],
        label=f"{job.label} teacher", run_labels=["teacher"])
    with torch.no_grad():
        accuracy = float((clf(x).argmax(-1) == y).float().mean())
        perm = torch.randperm(len(x), generator=step_generator(REAL_SEED, 0, 51))
        ref = x[perm[: c["n_eval"]]]
        feats = clf.features(ref).double().numpy()
        hist = np.bincount(clf(ref).argmax(-1).numpy(), minlength=10) / len(ref)
    mu, sigma = gaussian_stats(feats)
    stats: dict[str, Any] = dict(mu=mu, sigma=sigma, features=feats, class_hist=hist, accuracy=accuracy,
                                 real_images=ref[:64].numpy())
    if c["n_fid"]:
        from paperdag.papers.f_distill.inception import inception_features, load_inception

        inc = inception_features(load_inception(c["inception_weights"]), x[perm[-c["n_fid"]:]].reshape(-1, 8, 8))
        stats["inception_features"] = inc  # the statistics follow from these (cached once)
    with atomic_path(job.outputs[0]) as tmp:
        torch.save({"classifier": clf.state_dict(), "teacher": teacher.state_dict(), "accuracy": accuracy,
                    "train_s": time.perf_counter() - t0}, tmp)
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
        return {"fd_digits": torch.tensor(fd), "class_tv": 0.5 * (hist - self.class_hist).abs().sum(-1),
                "precision": precision, "recall": recall}


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
    task = DistillTask(dc, names, slot_seeds, student, fake, disc, SharedTeacher(teacher), real, evaluator, eval_steps,
                       c["n_eval"], METRICS)
    run_labels = [f"{n}/seed{s}" for n, s in zip(names, slot_seeds)]
    fit(task, steps=dc.total_iterations, label=job.label, run_labels=run_labels,
        checkpoint_dir=job.checkpoint_dir() / job.config_hash, checkpoint_every=c["checkpoint_every"],
        accelerator=job.accelerator())
    samples = task.samples(c["n_eval"])
    final_eval = evaluator(samples)
    task.trajectory[-1] = torch.stack([final_eval[k].float() for k in METRICS], 1)
    final = {k: v.double().numpy() for k, v in final_eval.items()}
    if c["n_fid"]:
        from paperdag.papers.f_distill.inception import fid, inception_features, load_inception

        net = load_inception(c["inception_weights"])
        feats = inception_features(net, samples[:, : c["n_fid"]].reshape(-1, 8, 8)).reshape(m, c["n_fid"], -1)
        final["fid"] = np.array([fid(f, stats["inception_features"]) for f in feats])
    traj = task.trajectory.double().numpy()
    for i, (div, seed) in enumerate(zip(names, slot_seeds)):
        metrics = {"task": "digits", "init": "normal", "divergence": div, "seed": seed, "steps": eval_steps[-1],
                   "eval_steps": eval_steps, "trajectory": {k: traj[:, i, j].tolist() for j, k in enumerate(METRICS)},
                   **{k: float(v[i]) for k, v in final.items()},
                   **{f"auc_{k}": area_under(eval_steps, traj[:, i, j]) for j, k in enumerate(METRICS)},
                   "classifier_accuracy": float(stats["accuracy"]), "n_fid": c["n_fid"], "n_eval": c["n_eval"],
                   "dataset": "sklearn load_digits (8x8)"}
        write_run(job.outputs[i], metrics, config_hash=job.config_hash, seed=seed, started=t0)
    with atomic_path(job.outputs[-1]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, samples=samples[:, :64].clamp(-1, 1).numpy(), names=np.array(names), seeds=np.array(slot_seeds),
                     real=stats["real_images"])
