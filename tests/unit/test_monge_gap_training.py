"""Monge-gap training through the shared Lightning loop (the protocol's smoke checks)."""
from __future__ import annotations

import torch

from paperdag.metrics import l2_uvp
from paperdag.papers.monge_gap.benchmarks import make_problem
from paperdag.papers.monge_gap.tasks import MapTask, W2GNTask
from paperdag.seeding import seed_everything
from paperdag.training import fit


def _uvp(problem, task, n_models: int) -> list[float]:
    x = problem.sample_source(2048, torch.Generator().manual_seed(11))
    mapped = task(x.unsqueeze(0).expand(n_models, -1, -1))
    return [l2_uvp(mapped[k].detach(), problem.true_map(x)) for k in range(n_models)]


DATA = {"gaussian": {"eig_min": 0.25, "eig_max": 4.0}}


def test_icnn_w2gn_reaches_two_percent_on_2d_gaussian():
    """So that comparisons against the ICNN baseline mean something."""
    seed_everything(0, threads=1)
    problem = make_problem("gaussian", 2, DATA["gaussian"])
    task = W2GNTask(problem, [0], training={"batch": 256, "lr": 1e-3, "schedule": "constant"}, cycle_weight_per_dim=1.0,
                    pretrain_steps=200, steps=1600)
    fit(task, steps=1600, label="test icnn", run_labels=["icnn"])
    assert _uvp(problem, task, 1)[0] <= 2.0


def test_mlp_with_monge_gap_trains_and_beats_plain_mlp_at_d2():
    seed_everything(0, threads=1)
    problem = make_problem("gaussian", 2, DATA["gaussian"])
    training = {"batch": 128, "lr": 1e-3, "fit_blur": 0.05, "fit_scaling": 0.5, "schedule": "cosine", "fused_sinkhorn": False}
    task = MapTask(problem, [0, 0], [32, 32], residual=[False, False], mg_weights=[0.0, 1.0],
                   mg_eps_scales=[0.01, 0.01], costs=["sqeuclidean"] * 2, training=training, steps=300)
    history = fit(task, steps=300, label="test mlp", run_labels=["mlp", "mlp_mg"], log_every=50)
    first, last = history[0][1], history[-1][1]
    assert all(end < start for start, end in zip(first, last)), history
    plain, regularised = _uvp(problem, task, 2)
    assert regularised < plain
