"""The it_bounds jobs: `bounds` (one architecture × d, every n), `sdpi`, `gibbs`, `crosscheck`, `report`.

No gradient training anywhere (the testbed is analytic), so nothing goes through
`paperdag.training.fit`; every job is vectorised numpy over Monte Carlo draws.
"""
from __future__ import annotations

import logging
import time
import zlib
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from paperdag.papers.it_bounds.bounds import evaluate_point
from paperdag.papers.it_bounds.sdpi_check import run_sdpi_checks
from paperdag.papers.it_bounds.testbed import class_mean, make_network, network_seed
from paperdag.runs import write_run
from paperdag.stage import Job

log = logging.getLogger(__name__)
PAPER = "it_bounds"


def bounds(job: Job) -> None:
    cfg = job.cfg
    arch, d = cfg["arch"], int(cfg["d"])
    spec = cfg["architecture"]
    net = make_network(arch, d, spec["widths"], spec["gains"], network_seed(cfg["seed"], arch, d))
    mu = class_mean(d, cfg["mu_norm"])
    with threadpool_limits(job.threads):  # tiny batched LAPACK calls: extra BLAS threads only contend
        for n, path in zip(cfg["ns"], job.outputs):
            started = time.perf_counter()
            rng = np.random.default_rng([cfg["seed"], zlib.crc32(arch.encode()), d, n])
            stats = evaluate_point(net, mu, cfg["sigma"], n, cfg["draws"], cfg["ramp_margin"], rng, cfg["chunk_elements"])
            metrics = {"paper": PAPER, "kind": "bounds", "arch": arch, "d": d, "n": n, "seed": cfg["seed"],
                       "mu_norm": cfg["mu_norm"], "sigma": cfg["sigma"], "ramp_margin": cfg["ramp_margin"], **stats}
            write_run(path, metrics, config_hash=job.config_hash, seed=cfg["seed"], started=started,
                      settings={**{k: cfg[k] for k in ("draws", "seed", "mu_norm", "sigma", "ramp_margin")}, "n": n,
                                "architecture": spec})
            out = stats["layers"][-1]
            log.info("%s d=%d n=%d: gen %.4g ± %.2g, output KL bound %.4g, W1 per layer %s (%.1f s)", arch, d, n,
                     stats["gen_mean"], stats["gen_se"], out["kl_joint"],
                     " ".join(f"{x['w1']:.3g}" for x in stats["layers"]), time.perf_counter() - started)


def sdpi(job: Job) -> None:
    started = time.perf_counter()
    with threadpool_limits(job.threads):  # numpy Generators are seeded explicitly: no global seeding needed
        results = run_sdpi_checks(job.cfg["sdpi"], job.cfg["seed"], job.cfg["architectures"], job.cfg["dims"])
    for path in job.outputs:
        channel = Path(path).parent.name
        write_run(path, {"paper": PAPER, "kind": "sdpi", "channel": channel, "cases": results[channel]},
                  config_hash=job.config_hash, seed=job.cfg["seed"], started=started, settings=job.cfg["sdpi"])
        log.info("sdpi %s: %d cases", channel, len(results[channel]))


def gibbs(job: Job) -> None:
    """The finite-parameter Gibbs example, exact (no randomness: the seed is recorded only)."""
    from paperdag.papers.it_bounds.gibbs import run_gibbs

    started = time.perf_counter()
    settings = job.cfg["gibbs"]
    with threadpool_limits(job.threads):
        results = run_gibbs(settings)
    for path in job.outputs:
        network = Path(path).parent.name
        write_run(path, {"paper": PAPER, "kind": "gibbs", "network": network, "points": results[network]},
                  config_hash=job.config_hash, seed=job.cfg["seed"], started=started, settings=settings)
        last = results[network][-1]
        log.info("gibbs %s: n=%d gen %.3g, output bound %.3g", network, last["n"], last["gen"], last["bound"][-1])


def crosscheck(job: Job) -> None:
    from paperdag.papers.it_bounds.crosscheck import run_crosscheck  # POT: imported only here

    started = time.perf_counter()
    with threadpool_limits(job.threads):  # numpy Generator seeded explicitly inside
        cases = run_crosscheck(job.cfg)
    write_run(job.outputs[0], {"paper": PAPER, "kind": "crosscheck", "cases": cases},
              config_hash=job.config_hash, seed=job.cfg["seed"], started=started, settings=job.cfg["crosscheck"])


def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.it_bounds.claims import claims
    from paperdag.papers.it_bounds.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
