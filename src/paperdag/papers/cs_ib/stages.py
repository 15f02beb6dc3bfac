"""The CS-IB stages: `download` (paper scale), `train` (one batched job per dataset), `gen_study`, `report`."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np

from paperdag.io import read_json, write_json
from paperdag.papers.cs_ib import spec
from paperdag.papers.cs_ib.data import Split, load_task, split_and_standardize
from paperdag.papers.cs_ib.task import IBRegressionTask, RunSpec
from paperdag.runs import write_run
from paperdag.seeding import seed_everything
from paperdag.stage import Job
from paperdag.training import fit

log = logging.getLogger(__name__)
_OPTION_KEYS = ("h", "eta", "logvar_t", "lambda_y", "sigma")


def download(job: Job) -> None:
    """Fetch each file of one paper-scale dataset (sha256-checked) and write its manifest."""
    from paperdag.data import download as fetch

    manifest_path = Path(job.outputs[0])
    files = {}
    for name, f in job.cfg["files"].items():
        dest = manifest_path.parent / f.get("filename", name)
        fetch(
            f["url"], dest, f.get("sha256", ""), config_key=f"cs_ib.paper.data_sources.{job.cfg['dataset']}.files.{name}.sha256"
        )
        files[name] = dest.name
    write_json(manifest_path, {"dataset": job.cfg["dataset"], "files": files})


def _files(job: Job) -> dict[str, Path] | None:
    manifests = [p for p in job.inputs if p.endswith("manifest.json")]  # inputs also list library sources
    if not manifests:
        return None
    manifest = Path(manifests[0])
    return {k: manifest.parent / v for k, v in read_json(manifest)["files"].items()}


def _run_specs(cfg: dict) -> list[RunSpec]:
    out = []
    for method, beta, seed in spec.run_list(cfg):
        m = cfg["methods"][method]
        opts = tuple(sorted((k, m[k]) for k in _OPTION_KEYS if k in m))
        out.append(RunSpec(method=method, kind=m["kind"], beta=beta, seed=seed, options=opts))
    return out


def trivial_rmse(split: Split) -> dict[str, float]:
    """Validation and test RMSE (target units) of the two trivial predictors every method must beat:
    the constant training mean, and least-squares linear regression on the standardised inputs."""
    xs = {
        k: np.c_[getattr(split, f"x_{k}").reshape(len(getattr(split, f"y_{k}")), -1), np.ones(len(getattr(split, f"y_{k}")))]
        for k in ("train", "val", "test")
    }
    coef = np.linalg.lstsq(xs["train"].astype(np.float64), split.y_train.astype(np.float64), rcond=None)[0]
    mean = float(split.y_train.mean())
    out = {}
    for k in ("val", "test"):
        y = getattr(split, f"y_{k}").astype(np.float64)
        out[f"constant_{k}_rmse"] = float(np.sqrt(np.mean((y - mean) ** 2)) * split.y_std)
        out[f"linear_{k}_rmse"] = float(np.sqrt(np.mean((xs[k] @ coef - y) ** 2)) * split.y_std)
    return out


def _fit_compacting(task: IBRegressionTask, job: Job, labels: list[str], accelerator: str) -> list[tuple[int, list[float]]]:
    """`fit` the task; whenever it asks to be compacted, go on with a task of its live models only
    (its own checkpoint folder, so a resumed job replays the same rounds), then copy every round's
    state back into `task`. Returns the logged (job step, loss per run) of all rounds."""
    import torch

    tr, m = job.cfg["training"], len(task.runs)
    keep, current, history, rnd = torch.arange(m), task, [], 0
    # A round ends just before an evaluation step; a checkpoint taken exactly there would resume into
    # that evaluation instead of compacting. One step more than a multiple of eval_every puts the first
    # such coincidence at lcm(every, eval_every) steps into a round (10050 at default: past the cap).
    every = tr["checkpoint_every"] + (tr["checkpoint_every"] % tr["eval_every"] == 0)
    while True:
        offset = current.step_offset
        ckpt = job.checkpoint_dir() / job.config_hash / (f"round{rnd}" if rnd else "")
        part = fit(
            current,
            steps=tr["max_steps"] - offset,
            label=job.label,
            run_labels=[labels[i] for i in keep.tolist()],
            checkpoint_dir=ckpt,
            checkpoint_every=every,
            accelerator=accelerator,
            log_every=tr["eval_every"],
        )
        for step, values in part:
            full = [0.0] * m  # a model outside this round had stopped: its loss is the constant 0
            for j, i in enumerate(keep.tolist()):
                full[i] = values[j]
            history.append((step + offset, full))
        if current is not task:
            task.absorb(current, keep)
        if not current.wants_compaction():
            return history
        live = (~current.stopped).nonzero().squeeze(-1)
        log.info(
            "%s: step %d, %d of %d models still training: compacting", job.label, int(current.steps_done), len(live), len(keep)
        )
        current, keep, rnd = current.compacted(live), keep[live], rnd + 1


def train(job: Job) -> None:
    """Train every (method, β, seed) run of one dataset as one batched model; one metrics.json per run."""
    t0 = time.perf_counter()
    cfg, src = job.cfg, job.cfg["source"]
    seed_everything(min(cfg["seeds"]), threads=job.threads)
    x, y, image_shape = load_task({**src, "data_seed": cfg["data"]["split_seed"]}, _files(job))
    split = split_and_standardize(
        x,
        y,
        split_seed=cfg["data"]["split_seed"],
        mode=cfg["data"]["standardize"],
        standardize_y=cfg["data"]["standardize_y"],
        image_shape=image_shape,
    )
    runs = _run_specs(cfg)
    est, net, tr = cfg["estimator"], cfg["network"], cfg["training"]
    task = IBRegressionTask(
        split,
        runs,
        max_steps=tr["max_steps"],
        eval_every=tr["eval_every"],
        patience=tr["patience"],
        patience_fraction=tr["patience_fraction"],
        batch=tr["batch"],
        lr=tr["lr"],
        sigma=est["sigma"],
        row_weight=est["row_weight"],
        median_scale=est["median_scale"],
        k=net["k"],
        hidden=net["hidden"],
        backbone=src.get("backbone", "mlp"),
        compact_below=tr.get("compact_below", 0.0),
    )
    accelerator = job.accelerator()
    labels = [f"{r.method}/beta{spec.beta_tag(r.beta)}/seed{r.seed}" for r in runs]
    log.info("%s: %d runs, n_train=%d, at most %d steps", job.label, len(runs), task.n_train, tr["max_steps"])
    history = _fit_compacting(task, job, labels, accelerator)
    task.to("cuda" if accelerator == "gpu" else "cpu")
    task.finish()  # evaluates the weights after the last update
    task.restore_best()  # every later number is of the best-validation weights
    test_rmse, test_mae = task.errors(task.x_test, task.y_test)
    val_rmse, _ = task.errors(task.x_val, task.y_val)
    train_rmse, _ = task.errors(task.x_train, task.y_train)
    eps = [float(e) for e in cfg["evaluation"]["fgsm_eps"]]
    fgsm = task.fgsm_rmse(eps, task.x_test, task.y_test)
    var_y = float(task.y_train.var())
    ixt_tr, iyt_tr = task.information_plane(task.x_train, task.y_train, var_y)
    ixt_te, iyt_te = task.information_plane(task.x_test, task.y_test, var_y)
    trivial = trivial_rmse(split)
    last_losses = history[-1][1] if history else [math.nan] * len(runs)
    logged_finite = all(np.isfinite(v).all() for _, v in history)
    out_by_run = dict(zip(spec.run_files(cfg, cfg["dataset"]), job.outputs))
    settings = {"training": dict(tr), "network": dict(net), "estimator": dict(est)}
    for i, r in enumerate(runs):
        rel = spec.RUN.format(dataset=cfg["dataset"], method=r.method, beta=spec.beta_tag(r.beta), seed=r.seed)
        steps, val_curve, test_curve = task.curve(i)
        stop = int(task.stop_step[i])
        train_steps = [s for s, _ in history if s <= stop]
        metrics = {
            "paper": "cs_ib",
            "dataset": cfg["dataset"],
            "dataset_label": src["label"],
            "stand_in_for": src.get("stand_in_for", ""),
            "method": r.method,
            "kind": r.kind,
            "beta": r.beta,
            "seed": r.seed,
            "n_train": len(split.y_train),
            "n_val": len(split.y_val),
            "n_test": len(split.y_test),
            "max_steps": tr["max_steps"],
            "steps_trained": stop,
            "stopped_early": bool(task.stopped[i]),
            "best_step": int(task.best_step[i]),
            "test_rmse": float(test_rmse[i]),
            "test_mae": float(test_mae[i]),
            "val_rmse": float(val_rmse[i]),
            "train_rmse": float(train_rmse[i]),
            "test_rmse_best_over_epochs_official": float(task.best_test_over_evals[i]),
            "curve": {
                "step": train_steps,
                "train_loss": [v[i] for s, v in history if s <= stop],
                "val_step": steps,
                "val": val_curve,
            },
            "test_rmse_curve": test_curve,
            **trivial,
            "fgsm_eps": eps,
            "fgsm_rmse": fgsm[:, i].tolist(),
            "fgsm_auc": float(np.trapezoid(fgsm[:, i], eps)) if len(eps) > 1 else float("nan"),
            "ixt_norm_train": float(ixt_tr[i]),
            "iyt_bits_train": float(iyt_tr[i]),
            "ixt_norm_test": float(ixt_te[i]),
            "iyt_bits_test": float(iyt_te[i]),
            "final_train_loss": float(last_losses[i]),
            "losses_finite": bool(logged_finite),
            "selection": "best validation evaluation (early stopping)",
            "standardize": cfg["data"]["standardize"],
        }
        run_settings = {**settings, "method": dict(cfg["methods"][r.method]), "beta": r.beta}
        write_run(out_by_run[rel], metrics, config_hash=job.config_hash, seed=r.seed, started=t0, settings=run_settings)


def gen_study(job: Job) -> None:
    """The generalisation study: every (depth, width, seed) MLP trained at once; per network its
    training and test MSE, the gap, I_CS(x;t) and I_CS(x;t|y) (see `gen_study.py`)."""
    import torch

    from paperdag.papers.cs_ib.gen_study import Arch, EnsembleStudy, train_plain

    t0 = time.perf_counter()
    cfg, g = job.cfg, job.cfg["study"]
    seed_everything(min(g["seeds"]), threads=job.threads)
    x, y, image_shape = load_task({**cfg["source"], "data_seed": cfg["data"]["split_seed"]}, _files(job))
    split = split_and_standardize(
        x, y, split_seed=cfg["data"]["split_seed"], mode=cfg["data"]["standardize"], standardize_y=True, image_shape=image_shape
    )
    n = min(int(g["n_train"]), len(split.y_train))
    archs = [Arch(int(d), int(w)) for d in g["depths"] for w in g["widths"]]
    study = EnsembleStudy(split.x_train[:n], split.y_train[:n], archs, g["seeds"], batch=g["batch"], lr=g["lr"])
    losses = train_plain(study, int(g["steps"]))
    x_tr, y_tr = torch.as_tensor(split.x_train[:n]), torch.as_tensor(split.y_train[:n])
    x_te, y_te = torch.as_tensor(split.x_test), torch.as_tensor(split.y_test)
    train_mse, test_mse = study.mse(x_tr, y_tr), study.mse(x_te, y_te)
    sigma = cfg["estimator"]["sigma"]
    if sigma == "median":
        raise ValueError("gen_study uses a fixed kernel width (estimator.sigma a number)")
    ixt, ixt_y = study.information(x_tr, y_tr, float(sigma))
    networks = [
        {
            "depth": a.depth,
            "width": a.width,
            "seed": s,
            "train_mse": float(train_mse[i]),
            "test_mse": float(test_mse[i]),
            "gap": float(test_mse[i] - train_mse[i]),
            "ixt": float(ixt[i]),
            "ixt_given_y": float(ixt_y[i]),
        }
        for i, (a, s) in enumerate(study.labels)
    ]
    metrics = {
        "paper": "cs_ib",
        "study": "generalisation",
        "dataset": g["dataset"],
        "dataset_label": cfg["source"]["label"],
        "n_train": n,
        "n_test": len(split.y_test),
        "loss_curve_every_100_steps": losses,
        "losses_finite": bool(np.isfinite(losses).all()),
        "networks": networks,
    }
    write_run(job.outputs[0], metrics, config_hash=job.config_hash, seed=None, started=t0, settings=dict(g))


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.cs_ib.claims import claims
    from paperdag.papers.cs_ib.summary import summarize

    study = read_json(next(p for p in job.inputs if p.endswith(spec.GEN_STUDY)))
    report_paper(job, claims(job.cfg, study), summarize)
