"""The GDA jobs: the bGMM simulation, the digits augmentation experiment, and the report.

torch is imported inside `augment` only, so the numpy-only simulation job starts in a second.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import numpy as np

from paperdag.papers.gda import spec
from paperdag.papers.gda.bgmm import simulate_cell
from paperdag.runs import write_run
from paperdag.stage import Job


def simulate(job: Job) -> None:
    """Every (panel, d, m, γ) cell; each (d, m) pair is simulated once for all its γ values.

    No global seeding: every repeat draws from its own `SeedSequence([seed, d, m, repeat, …])`.
    """
    sim = job.cfg["simulation"]
    cells = spec.sim_cells(job.cfg)
    by_dm: dict[tuple[int, int], list[tuple[dict[str, Any], str]]] = defaultdict(list)
    for cell, path in zip(cells, job.outputs, strict=True):
        by_dm[(int(cell["d"]), int(cell["m"]))].append((cell, path))
    for (d, m), members in by_dm.items():
        t0 = time.perf_counter()
        gammas = sorted({int(c["gamma"]) for c, _ in members})
        res = simulate_cell(d, m, gammas, sim["repeats"], sim["seed"], sim["n_test"], sim["sigma"])
        for cell, path in members:
            j = gammas.index(int(cell["gamma"]))
            gaps = res["gap"][j]
            write_run(
                path,
                {
                    "experiment": "bgmm",
                    "panel": cell["panel"],
                    "d": d,
                    "m": m,
                    "gamma": int(cell["gamma"]),
                    "repeats": sim["repeats"],
                    "n_test": sim["n_test"],
                    "sigma": sim["sigma"],
                    "gap_mean": float(gaps.mean()),
                    "gap_se": float(gaps.std(ddof=1) / np.sqrt(len(gaps))),
                    **{f"{k}_mean": float(res[k][j].mean()) for k in ("train_nll", "test_nll", "train_err", "test_err")},
                    "gaps": [float(v) for v in gaps],
                },
                config_hash=job.config_hash,
                seed=sim["seed"],
                started=t0,
            )


def _augmentation_sets(
    data, dg: dict[str, Any], subsets, settings, seed: int, checkpoint_dir, label: str, accelerator: str
) -> tuple[dict, dict]:
    """Per (generator, seed, m): γ_max·m images and labels in class order 0, 1, …, 9, 0, … (every prefix of
    γ·m images is class-balanced), and for the fitted generators `fd_samples` more images for the FD.

    `real` (positive control): held-out real pool images outside the m-subset, what a perfect
    generator would give. `copy` (negative control): the m real images repeated, what a generator
    that memorised its training set would give.
    """
    from paperdag.papers.gda.digits import held_out
    from paperdag.papers.gda.generators import ClassGaussian, ConditionalGAN, balanced_class_labels
    from paperdag.papers.gda.pools import PoolSampler
    from paperdag.training import fit

    g_max, generators = max(dg["gammas"]), dg["generators"]
    sets: dict[tuple[str, int, int], tuple[np.ndarray, np.ndarray]] = {}
    fd_sets: dict[tuple[str, int, int], np.ndarray] = {}
    n_fd = dg["fd_samples"]
    if "cgan" in generators:
        gc = dg["cgan"]
        gan = ConditionalGAN(
            PoolSampler(data.x_pool, data.y_pool, [subsets[s][m] for s, m in settings]),
            [1000 * s + i for i, (s, m) in enumerate(settings)],
            z_dim=gc["z_dim"],
            hidden=gc["hidden"],
            batch=gc["batch"],
            lr=gc["lr"],
            beta1=gc["beta1"],
            seed=seed,
            conditioning=gc["conditioning"],
        )
        fit(
            gan,
            steps=gc["steps"],
            label=f"{label} cgan",
            run_labels=[f"cgan seed={s} m={m}" for s, m in settings],
            checkpoint_dir=checkpoint_dir / "cgan",
            checkpoint_every=gc["checkpoint_every"],
            accelerator=accelerator,
        )
        n_max = g_max * max(m for _, m in settings) + n_fd
        samples = gan.sample(n_max, seed=seed + 17)
        for i, (s, m) in enumerate(settings):  # a class-balanced prefix for training, the last fd_samples for the FD
            sets[("cgan", s, m)] = (samples[i, : g_max * m], balanced_class_labels(g_max * m))
            fd_sets[("cgan", s, m)] = samples[i, n_max - n_fd :]
    for s, m in settings:
        sub = subsets[s][m]
        if "cgauss" in generators:
            model = ClassGaussian.fit(data.x_pool[sub], data.y_pool[sub])
            rng = np.random.default_rng([s, m, 23])
            sets[("cgauss", s, m)] = (model.sample(g_max * m, rng), balanced_class_labels(g_max * m))
            fd_sets[("cgauss", s, m)] = model.sample(n_fd, rng)
        if "real" in generators:
            idx = held_out(data.y_pool, sub, g_max * m, s)
            sets[("real", s, m)] = (data.x_pool[idx], data.y_pool[idx])
        if "copy" in generators:
            idx = np.tile(sub, g_max)
            sets[("copy", s, m)] = (data.x_pool[idx], data.y_pool[idx])
    return sets, fd_sets


def classifier_steps(epochs: int, n_train: int, batch: int) -> int:
    """Optimiser steps for `epochs` passes over n_train samples: the paper trains for fixed epochs."""
    return int(np.ceil(epochs * n_train / batch))


def augment(job: Job) -> None:
    """Digits: augmentation sets for m real images, then classifiers on real + γ·m augmentation images.

    Stand-in for the paper's CIFAR-10 / ResNet-18 experiment (protocol §3). Every classifier is
    trained for the same number of epochs over its own training set ((1 + γ)·m images), so the
    m real images get as many passes whatever γ is; models with equal training-set sizes form one
    batch. Beside the fitted generators, `real` (held-out real images: the positive control) and
    `copy` (the m real images repeated: the negative control) are augmentation sets of their own.
    """
    import torch

    from paperdag.metrics import frechet_distance
    from paperdag.papers.gda.classifier import BatchedClassifier
    from paperdag.papers.gda.digits import load, nested_subsets
    from paperdag.papers.gda.generators import balanced_class_labels
    from paperdag.papers.gda.pools import PoolSampler
    from paperdag.seeding import seed_everything
    from paperdag.training import fit

    t0 = time.perf_counter()
    dataset, dg = job.cfg["dataset"], job.cfg["digits"]
    seeds, sizes, gammas = dg["seeds"], dg["sizes"], dg["gammas"]
    cc = dg["classifier"]
    seed_everything(seeds[0], threads=job.threads)
    accelerator = job.accelerator()
    ckpt = job.checkpoint_dir() / job.config_hash
    data = load(dataset, dg["n_test"][dataset], dg["split_seed"], dg["n_val"][dataset])
    subsets = {s: nested_subsets(data.y_pool, sizes, s) for s in seeds}
    settings = [(s, m) for s in seeds for m in sizes]

    # 1. Augmentation sets, and one bank (real pool, then every set) that every classifier's pool indexes.
    sets, fd_sets = _augmentation_sets(data, dg, subsets, settings, seeds[0], ckpt, job.label, accelerator)
    bank_x, bank_y, offset, start = [data.x_pool], [data.y_pool], len(data.x_pool), {}
    for key, (x, y) in sets.items():
        start[key] = offset
        bank_x.append(x)
        bank_y.append(y)
        offset += len(x)
    bank_x, bank_y = np.concatenate(bank_x).astype(np.float32), np.concatenate(bank_y)

    def classifier(pools: list[np.ndarray], init_seeds: list[int], steps: int, val: bool = True) -> BatchedClassifier:
        return BatchedClassifier(
            PoolSampler(bank_x, bank_y, pools),
            init_seeds,
            hidden=cc["hidden"],
            batch=cc["batch"],
            lr=cc["lr"],
            weight_decay=cc["weight_decay"],
            seed=seeds[0] + 1,
            val=(data.x_val, data.y_val) if val else None,
            cosine_steps=steps if cc["lr_schedule"] == "cosine" else None,
        )

    # 2. One fixed feature space for every FD and class-fidelity score: a classifier on the whole real pool.
    features = classifier([np.arange(len(data.x_pool))], [10_000 + 1000 * seeds[0]], cc["feature_steps"], val=False)
    fit(
        features,
        steps=cc["feature_steps"],
        label=f"{job.label} features",
        run_labels=["features"],
        checkpoint_dir=ckpt / "features",
        checkpoint_every=cc["checkpoint_every"],
        accelerator=accelerator,
    )

    # 3. The classifiers, one batch per training-set size (m, γ): the same epochs for every model.
    x_test, y_test = torch.as_tensor(data.x_test), torch.as_tensor(data.y_test)
    x_pool = torch.as_tensor(data.x_pool)
    paths = dict(zip([tuple(c.values()) for c in spec.digits_cells(job.cfg)], job.outputs, strict=True))
    test_feats = features.hidden(0, x_test).numpy()
    fd_real = frechet_distance(features.hidden(0, x_pool).numpy(), test_feats)
    fd_gen = {key: frechet_distance(features.hidden(0, torch.as_tensor(x)).numpy(), test_feats) for key, x in fd_sets.items()}
    fidelity = {
        key: features.evaluate(0, torch.as_tensor(x), torch.as_tensor(balanced_class_labels(len(x))))[0]
        for key, x in fd_sets.items()
    }
    for m in sizes:
        for g in gammas:
            cells = [c for c in spec.digits_cells(job.cfg) if c["m"] == m and c["gamma"] == g]
            pools = [
                np.concatenate(
                    [subsets[c["seed"]][m]] + ([start[(c["generator"], c["seed"], m)] + np.arange(g * m)] if g > 0 else [])
                )
                for c in cells
            ]
            steps = classifier_steps(cc["epochs"], (1 + g) * m, cc["batch"])
            clf = classifier(pools, [10_000 + 1000 * c["seed"] + 1 + i for i, c in enumerate(cells)], steps)
            history = fit(
                clf,
                steps=steps,
                label=f"{job.label} classifier m={m} g={g}",
                run_labels=[f"{c['generator']} seed={c['seed']}" for c in cells],
                checkpoint_dir=ckpt / f"classifier_m{m}_g{g}",
                checkpoint_every=cc["checkpoint_every"],
                accelerator=accelerator,
                log_every=max(1, steps // cc["curve_points"]),
            )
            for k, c in enumerate(cells):
                s, gen_name = c["seed"], c["generator"]
                train_acc, train_loss = clf.evaluate(k, *clf.sampler.pool(k))
                real_acc, _ = clf.evaluate(k, x_pool[subsets[s][m]], torch.as_tensor(data.y_pool[subsets[s][m]]))
                test_acc, test_loss = clf.evaluate(k, x_test, y_test)
                val_acc, _ = clf.evaluate(k, torch.as_tensor(data.x_val), torch.as_tensor(data.y_val))
                curve = history.curve(k)
                curve["val_step"].append(steps)  # the trained model, after its last step
                curve["val"].append(round(1 - val_acc, 6))
                fitted = (gen_name, s, m) in fd_sets
                write_run(
                    paths[(gen_name, m, g, s)],
                    {
                        "experiment": "digits",
                        "dataset": dataset,
                        "stand_in_for": "CIFAR-10 (real digits shipped in packages)",
                        "generator": gen_name,
                        "m": m,
                        "gamma": g,
                        "seed": s,
                        "n_generated": g * m,
                        "train_acc": train_acc,
                        "train_real_acc": real_acc,
                        "test_acc": test_acc,
                        "val_acc": val_acc,
                        "train_loss": train_loss,
                        "test_loss": test_loss,
                        "acc_gap": abs(train_acc - test_acc),
                        "loss_gap": abs(train_loss - test_loss),
                        "fd_generator": fd_gen[(gen_name, s, m)] if g > 0 and fitted else None,
                        "fd_real_pool": fd_real,
                        "generator_class_fidelity": fidelity[(gen_name, s, m)] if g > 0 and fitted else None,
                        "epochs": cc["epochs"],
                        "classifier_steps": steps,
                        "generator_steps": dg["cgan"]["steps"] if gen_name == "cgan" else None,
                        "curve": curve,
                    },
                    config_hash=job.config_hash,
                    seed=s,
                    started=t0,
                    settings={"digits": {k: v for k, v in dg.items() if k != "claims"}, "dataset": dataset},
                )


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.gda.claims import claims
    from paperdag.papers.gda.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
