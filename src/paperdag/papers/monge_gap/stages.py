"""The Monge-gap jobs: `train` (one benchmark × method, all dims and seeds), `maps2d`, `report`."""
from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from paperdag.io import atomic_path
from paperdag.papers.monge_gap.benchmarks import make_problem
from paperdag.papers.monge_gap.evaluate import evaluate_map
from paperdag.papers.monge_gap.models import fit_linear_map
from paperdag.papers.monge_gap.spec import RUN
from paperdag.papers.monge_gap.tasks import MapTask, W2GNTask
from paperdag.runs import write_run
from paperdag.seeding import seed_everything, step_generator
from paperdag.stage import Job
from paperdag.training import fit

log = logging.getLogger(__name__)


def _build_task(problem, seeds: list[int], method: dict, training: dict):
    kind = method["kind"]
    if kind in ("mlp", "resmlp"):
        return MapTask(problem, seeds, method["hidden"], residual=kind == "resmlp",
                       mg_weights=[method["monge_gap"]] * len(seeds), costs=["sqeuclidean"] * len(seeds),
                       training=training, mg_eps_scale=method["mg_eps_scale"])
    if kind == "icnn":
        return W2GNTask(problem, seeds, training=training, cycle_weight_per_dim=method.get("cycle_weight_per_dim", 1.0),
                        pretrain_steps=method.get("pretrain_steps", 0))
    raise ValueError(f"no trainable task for method kind '{kind}'")


def _save_slice(module: torch.nn.Module, k: int, path: Path) -> None:
    """Save model k of a batched module (every parameter has the model axis first)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file handle: no temp name inside the file
        torch.save({name: t[k].clone() for name, t in module.state_dict().items()}, fh)


def train(job: Job) -> None:
    """One benchmark × method: every dimension, its seeds batched into one model."""
    cfg, method = job.cfg, job.cfg["method"]
    training = {**cfg["training"], "steps": method.get("steps", cfg["training"]["steps"])}
    seeds, benchmark = list(cfg["seeds"]), cfg["benchmark"]
    accelerator = job.accelerator()
    for dim in cfg["dims"]:
        started = time.perf_counter()
        seed_everything(seeds[0], job.threads)
        problem = make_problem(benchmark, dim, cfg["data"].get(benchmark))
        labels = [f"monge_gap {benchmark} d={dim} {job.wildcards['method']} seed={s}" for s in seeds]
        if method["kind"] == "linear":
            maps = []
            for s in seeds:
                n = training["batch"] * 16
                a, b = fit_linear_map(problem.sample_source(n, step_generator(s, 0, 0)), problem.sample_target(n, step_generator(s, 0, 1)))
                maps.append(lambda x, a=a, b=b: x @ a.T + b)
            apply_k, task, history = (lambda k, x: maps[k](x)), None, []
        else:
            task = _build_task(problem, seeds, method, training)
            ckpt = job.checkpoint_dir() / job.config_hash / f"d{dim}"
            history = fit(task, steps=training["steps"], label=f"{job.label} d={dim}", run_labels=labels, checkpoint_dir=ckpt,
                          checkpoint_every=training["checkpoint_every"], accelerator=accelerator)
            apply_k = lambda k, x: task(x.unsqueeze(0).expand(len(seeds), -1, -1))[k]  # noqa: E731
        for k, seed in enumerate(seeds):
            metrics_path = Path(job.output(RUN, dim=dim, seed=seed))
            metrics = evaluate_map(problem, lambda x: apply_k(k, x), seed, cfg)
            metrics.update(paper="monge_gap", benchmark=benchmark, dim=dim, method=job.wildcards["method"],
                           kind=method["kind"], seed=seed, train_steps=0 if task is None else training["steps"],
                           final_loss=history[-1][1][k] if history else None)
            if task is not None:
                _save_slice(task, k, metrics_path.with_name("model.pt"))
            settings = {"benchmark": benchmark, "dim": dim, "seed": seed, "method": method, "training": training,
                        "data": cfg["data"].get(benchmark)}
            write_run(metrics_path, metrics, config_hash=job.config_hash, seed=seed, started=started, settings=settings)
            log.info("%s: L2-UVP %.2f%%, S %.4g (floor %.4g), exact MG %.3g of cost", labels[k], metrics["l2_uvp"],
                     metrics["sinkhorn"], metrics["sinkhorn_floor"], metrics["exact_mg_rel"])
    shutil.rmtree(job.checkpoint_dir() / job.config_hash, ignore_errors=True)


def maps2d(job: Job) -> None:
    """Two MLP+MG maps on the 2-D Brenier problem, one per cost (ℓ2² and ℓ2), for the figure."""
    cfg, training = job.cfg["maps2d"], {**job.cfg["training"], "steps": job.cfg["maps2d"]["steps"]}
    costs = sorted(cfg["lambdas"])
    lams = [cfg["lambdas"][c] for c in costs]
    seed_everything(0, job.threads)
    problem = make_problem("brenier", 2)
    task = MapTask(problem, [0] * len(costs), cfg["hidden"], residual=False, mg_weights=lams, costs=costs,
                   training=training, mg_eps_scale=cfg["mg_eps_scale"])
    fit(task, steps=training["steps"], label=job.label, run_labels=costs,
        checkpoint_dir=job.checkpoint_dir() / job.config_hash, checkpoint_every=training["checkpoint_every"])
    x = problem.sample_source(400, torch.Generator().manual_seed(5))
    with torch.no_grad():
        mapped = task(x.unsqueeze(0).expand(len(costs), -1, -1))
    with atomic_path(job.outputs[0]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, x=x.numpy(), true=problem.true_map(x).numpy(), mapped=mapped.numpy(), costs=np.array(costs))
    shutil.rmtree(job.checkpoint_dir() / job.config_hash, ignore_errors=True)


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.monge_gap.claims import claims
    from paperdag.papers.monge_gap.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
