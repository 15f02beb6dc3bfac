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


def augment(job: Job) -> None:
    """Digits: fit the generators on m real images, train classifiers on real + γ·m generated images.

    Stand-in for the paper's CIFAR-10 / ResNet-18 experiment (report-only, protocol §3).
    """
    import torch

    from paperdag.metrics import frechet_distance
    from paperdag.papers.gda.classifier import BatchedClassifier
    from paperdag.papers.gda.digits import load, nested_subsets
    from paperdag.papers.gda.generators import ClassGaussian, ConditionalGAN, balanced_class_labels
    from paperdag.papers.gda.pools import PoolSampler
    from paperdag.seeding import seed_everything
    from paperdag.training import fit

    t0 = time.perf_counter()
    dataset, dg = job.cfg["dataset"], job.cfg["digits"]
    seeds, sizes, gammas, generators = dg["seeds"], dg["sizes"], dg["gammas"], dg["generators"]
    seed_everything(seeds[0], threads=job.threads)
    accelerator = job.accelerator()
    ckpt = job.checkpoint_dir() / job.config_hash
    data = load(dataset, dg["n_test"][dataset], dg["split_seed"])
    subsets = {s: nested_subsets(data.y_pool, sizes, s) for s in seeds}
    settings = [(s, m) for s in seeds for m in sizes]
    n_gen = {m: max(gammas) * m for m in sizes}

    # 1. Generators, fitted on each (seed, m) real subset; γ_max·m training samples + fd_samples for the FD.
    generated: dict[tuple[str, int, int], np.ndarray] = {}  # (generator, seed, m) -> (n_gen + fd_samples, D)
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
            seed=seeds[0],
            conditioning=gc["conditioning"],
        )
        fit(
            gan,
            steps=gc["steps"],
            label=f"{job.label} cgan",
            run_labels=[f"cgan seed={s} m={m}" for s, m in settings],
            checkpoint_dir=ckpt / "cgan",
            checkpoint_every=gc["checkpoint_every"],
            accelerator=accelerator,
        )
        n_max = max(n_gen.values()) + dg["fd_samples"]
        samples = gan.sample(n_max, seed=seeds[0] + 17)
        for i, (s, m) in enumerate(settings):  # keep a class-balanced prefix, then fd_samples more
            generated[("cgan", s, m)] = np.concatenate([samples[i, : n_gen[m]], samples[i, n_max - dg["fd_samples"] :]])
    if "cgauss" in generators:
        for s, m in settings:
            model = ClassGaussian.fit(data.x_pool[subsets[s][m]], data.y_pool[subsets[s][m]])
            rng = np.random.default_rng([s, m, 23])
            generated[("cgauss", s, m)] = np.concatenate([model.sample(n_gen[m], rng), model.sample(dg["fd_samples"], rng)])

    # 2. One bank (real pool, then every generated set) and one pool of bank indices per classifier.
    labels_gen = {m: balanced_class_labels(n_gen[m]) for m in sizes}
    bank_x, bank_y, offset, gen_start = [data.x_pool], [data.y_pool], len(data.x_pool), {}
    for key, x in generated.items():
        gen_start[key] = offset
        bank_x.append(x[: n_gen[key[2]]])
        bank_y.append(labels_gen[key[2]])
        offset += n_gen[key[2]]
    models: list[dict[str, Any]] = [{"role": "features", "seed": seeds[0]}]  # one fixed feature space for every FD
    pools = [np.arange(len(data.x_pool))]
    for cell in spec.digits_cells(job.cfg):
        s, m, g, gen_name = cell["seed"], cell["m"], cell["gamma"], cell["generator"]
        pool = subsets[s][m]
        if g > 0:
            start = gen_start[(gen_name, s, m)]
            pool = np.concatenate([pool, start + np.arange(g * m)])
        models.append({"role": "run", **cell})
        pools.append(pool)
    sampler = PoolSampler(np.concatenate(bank_x), np.concatenate(bank_y), pools)

    # 3. All classifiers (and the per-seed feature networks) as one batched model.
    cc = dg["classifier"]
    clf = BatchedClassifier(
        sampler,
        [10_000 + 1000 * mdl["seed"] + i for i, mdl in enumerate(models)],
        hidden=cc["hidden"],
        batch=cc["batch"],
        lr=cc["lr"],
        weight_decay=cc["weight_decay"],
        seed=seeds[0] + 1,
    )
    labels = [
        f"{mdl['role']} seed={mdl['seed']}"
        + (f" {mdl['generator']} m={mdl['m']} g={mdl['gamma']}" if mdl["role"] == "run" else "")
        for mdl in models
    ]
    fit(
        clf,
        steps=cc["steps"],
        label=f"{job.label} classifier",
        run_labels=labels,
        checkpoint_dir=ckpt / "classifier",
        checkpoint_every=cc["checkpoint_every"],
        accelerator=accelerator,
    )

    # 4. Evaluate and write one run per (generator, m, γ, seed).
    x_test, y_test = torch.as_tensor(data.x_test), torch.as_tensor(data.y_test)
    x_pool = torch.as_tensor(data.x_pool)
    test_feats = clf.hidden(0, x_test).numpy()
    fd_real = frechet_distance(clf.hidden(0, x_pool).numpy(), test_feats)
    fd_gen = {
        key: frechet_distance(clf.hidden(0, torch.as_tensor(x[n_gen[key[2]] :])).numpy(), test_feats)
        for key, x in generated.items()
    }
    # class fidelity: how often the real-pool classifier gives a generated image the class it was drawn for
    fd_labels = torch.as_tensor(balanced_class_labels(dg["fd_samples"]))
    fidelity = {key: clf.evaluate(0, torch.as_tensor(x[n_gen[key[2]] :]), fd_labels)[0] for key, x in generated.items()}
    paths = dict(zip([tuple(c.values()) for c in spec.digits_cells(job.cfg)], job.outputs, strict=True))
    for k, mdl in enumerate(models):
        if mdl["role"] != "run":
            continue
        s, m, g, gen_name = mdl["seed"], mdl["m"], mdl["gamma"], mdl["generator"]
        train_acc, train_loss = clf.evaluate(k, *sampler.pool(k))
        real_acc, _ = clf.evaluate(k, x_pool[subsets[s][m]], torch.as_tensor(data.y_pool[subsets[s][m]]))
        test_acc, test_loss = clf.evaluate(k, x_test, y_test)
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
                "train_loss": train_loss,
                "test_loss": test_loss,
                "acc_gap": abs(train_acc - test_acc),
                "loss_gap": abs(train_loss - test_loss),
                "fd_generator": fd_gen[(gen_name, s, m)] if g > 0 else None,
                "fd_real_pool": fd_real,
                "generator_class_fidelity": fidelity[(gen_name, s, m)] if g > 0 else None,
                "classifier_steps": cc["steps"],
                "generator_steps": dg["cgan"]["steps"] if gen_name == "cgan" else None,
            },
            config_hash=job.config_hash,
            seed=s,
            started=t0,
        )


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.gda.claims import claims
    from paperdag.papers.gda.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
