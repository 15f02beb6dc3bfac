"""The Monge-gap jobs: `train` (one benchmark × method, all dims and seeds), `maps2d`, `report`."""
from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from paperdag.io import atomic_path
from paperdag.papers.monge_gap.benchmarks import make_problem
from paperdag.papers.monge_gap.evaluate import evaluate_map
from paperdag.papers.monge_gap.models import fit_linear_map
from paperdag.papers.monge_gap.ot import exact_monge_gap
from paperdag.papers.monge_gap.spec import RUN
from paperdag.papers.monge_gap.tasks import MapTask, W2GNTask
from paperdag.runs import write_run
from paperdag.seeding import seed_everything, step_generator
from paperdag.stage import Job
from paperdag.training import fit

log = logging.getLogger(__name__)


CLOSED_FORM = ("identity", "oracle", "linear")  # maps without training
MAP_KINDS = ("mlp", "resmlp")  # trained together, as one batched model


def _closed_form(problem, kind: str, seed: int, batch: int):
    """The trivial baselines and the oracle: identity, the affine Gaussian OT map fitted on
    16 batches of samples (as much data as a few training steps), and the true map itself."""
    if kind == "identity":
        return lambda x: x
    if kind == "oracle":
        return problem.true_map
    n = batch * 16
    a, b = fit_linear_map(problem.sample_source(n, step_generator(seed, 0, 0)),
                          problem.sample_target(n, step_generator(seed, 0, 1)))
    return lambda x: x @ a.T + b


def _shared(values: list, what: str, names: list[str]):
    if len({repr(v) for v in values}) != 1:
        raise ValueError(f"methods {', '.join(names)} train as one batched model but differ in {what}: {values}")
    return values[0]


def _trained(problem, names: list[str], methods: dict, seeds: list[int], training: dict):
    """The task that trains every (method, seed) slot of one job, and its slots."""
    slots = [(n, s) for n in names for s in seeds]
    kinds = {methods[n]["kind"] for n in names}
    steps = _shared([methods[n].get("steps", training["steps"]) for n in names], "steps", names)
    if kinds <= set(MAP_KINDS):
        hidden = _shared([methods[n]["hidden"] for n in names], "hidden sizes", names)
        m = [methods[n] for n, _ in slots]
        task = MapTask(problem, [s for _, s in slots], hidden, residual=[x["kind"] == "resmlp" for x in m],
                       mg_weights=[x["monge_gap"] for x in m], mg_eps_scales=[x["mg_eps_scale"] for x in m],
                       costs=["sqeuclidean"] * len(slots), training=training, steps=steps)
    elif kinds == {"icnn"} and len(names) == 1:
        m = methods[names[0]]
        task = W2GNTask(problem, seeds, training=training, cycle_weight_per_dim=m["cycle_weight_per_dim"],
                        pretrain_steps=m["pretrain_steps"], steps=steps)
    else:
        raise ValueError(f"a job trains closed-form maps, MLP maps or one ICNN, not {sorted(kinds)} together")
    return task, slots, steps


def _slot_maps(task: torch.nn.Module, n_slots: int) -> list:
    """One map per slot of a batched task, each pushing a point cloud through its own model."""

    @torch.no_grad()
    def push(x: torch.Tensor, k: int) -> torch.Tensor:
        return task(x.unsqueeze(0).expand(n_slots, -1, -1))[k]

    return [partial(lambda x, k: push(x, k), k=k) for k in range(n_slots)]


def _save_slice(module: torch.nn.Module, k: int, path: Path) -> None:
    """Save model k of a batched module (every parameter has the model axis first)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file handle: no temp name inside the file
        torch.save({name: t[k].clone() for name, t in module.state_dict().items()}, fh)


def train(job: Job) -> None:
    """One benchmark × one job of methods (config `jobs`): every dimension, all (method, seed)
    slots of the job trained as one batched model; one metrics.json per slot."""
    cfg = job.cfg
    names, methods, seeds, benchmark = cfg["job_methods"], cfg["methods"], list(cfg["seeds"]), cfg["benchmark"]
    accelerator = job.accelerator()
    for dim in cfg["dims"]:
        started = time.perf_counter()
        seed_everything(seeds[0], job.threads)
        problem = make_problem(benchmark, dim, cfg["data"][benchmark])
        if all(methods[n]["kind"] in CLOSED_FORM for n in names):
            slots = [(n, s) for n in names for s in seeds]
            maps = [_closed_form(problem, methods[n]["kind"], s, cfg["training"]["batch"]) for n, s in slots]
            task, history, steps = None, None, 0
        else:
            task, slots, steps = _trained(problem, names, methods, seeds, cfg["training"])
            ckpt = job.checkpoint_dir() / job.config_hash / f"d{dim}"
            history = fit(task, steps=steps, label=f"{job.label} d={dim}", run_labels=[f"method={n} seed={s}" for n, s in slots],
                          checkpoint_dir=ckpt, checkpoint_every=cfg["training"]["checkpoint_every"], accelerator=accelerator)
            maps = _slot_maps(task, len(slots))
        for k, (name, seed) in enumerate(slots):
            metrics_path = Path(job.output(RUN, dim=dim, method=name, seed=seed))
            metrics = evaluate_map(problem, maps[k], seed, cfg)
            metrics.update(paper="monge_gap", benchmark=benchmark, dim=dim, method=name, kind=methods[name]["kind"],
                           seed=seed, train_steps=steps, final_loss=history[-1][1][k] if history else None,
                           curve=history.curve(k) if history else None)
            if task is not None:
                _save_slice(task, k, metrics_path.with_name("model.pt"))
            settings = {"benchmark": benchmark, "dim": dim, "seed": seed, "method": methods[name],
                        "training": {**cfg["training"], "steps": steps}, "data": cfg["data"][benchmark]}
            write_run(metrics_path, metrics, config_hash=job.config_hash, seed=seed, started=started, settings=settings)
            log.info("%s d=%d %s seed=%d: L2-UVP %.2f%%, Bures %.4g (floor %.4g), variance ratio %.3f", job.label, dim,
                     name, seed, metrics["l2_uvp"], metrics["bures"], metrics["bures_floor"], metrics["var_ratio"])


def maps2d(job: Job) -> None:
    """Two MLP+MG maps on the 2-D Brenier problem, one per cost (ℓ2² and ℓ2), for the figure, each
    with its exact Monge gap under its own cost on 400 held-out points (0 for an optimal map)."""
    cfg, training = job.cfg["maps2d"], {**job.cfg["training"], "steps": job.cfg["maps2d"]["steps"]}
    costs = sorted(cfg["lambdas"])
    lams = [cfg["lambdas"][c] for c in costs]
    seed_everything(0, job.threads)
    problem = make_problem("brenier", 2, job.cfg["data"]["brenier"])
    task = MapTask(problem, [0] * len(costs), cfg["hidden"], residual=[False] * len(costs), mg_weights=lams,
                   mg_eps_scales=[cfg["mg_eps_scale"]] * len(costs), costs=costs, training=training,
                   steps=training["steps"])
    fit(task, steps=training["steps"], label=job.label, run_labels=costs,
        checkpoint_dir=job.checkpoint_dir() / job.config_hash, checkpoint_every=training["checkpoint_every"])
    x = problem.sample_source(400, torch.Generator().manual_seed(5))
    with torch.no_grad():
        mapped = task(x.unsqueeze(0).expand(len(costs), -1, -1))
    gaps = [exact_monge_gap(x, mapped[k], cost=c) for k, c in enumerate(costs)]  # each map under its own cost
    with atomic_path(job.outputs[0]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, x=x.numpy(), true=problem.true_map(x).numpy(), mapped=mapped.numpy(), costs=np.array(costs),
                     exact_mg=np.array(gaps))


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.monge_gap.claims import claims
    from paperdag.papers.monge_gap.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
