"""Held-out evaluation of a fitted map against the benchmark's true OT map."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from paperdag.metrics import frechet_distance_from_stats, l2_uvp
from paperdag.papers.monge_gap.benchmarks import Problem
from paperdag.papers.monge_gap.ot import displacement_cost, exact_monge_gap
from paperdag.sinkhorn import sinkhorn_divergence

EVAL_SEED = 987_654  # one held-out set shared by every method and seed
EVAL_SCALING = 0.7  # ε-scaling for evaluation: the same solver for every method and the floor
_FLOORS: dict[tuple, tuple[Problem, float]] = {}  # per (problem, seed, n, blur); holds the problem, so its id stays unique


def cosine_metric(x: torch.Tensor, mapped: torch.Tensor, true_mapped: torch.Tensor) -> float:
    """Korotin et al.'s cosine between the fitted and true displacements."""
    a, b = mapped - x, true_mapped - x
    return float((a * b).sum(-1).mean() / torch.sqrt((a ** 2).sum(-1).mean() * (b ** 2).sum(-1).mean()))


def eval_divergence(a: torch.Tensor, b: torch.Tensor, blur: float, fused: bool) -> float:
    """The evaluation Sinkhorn divergence of two point clouds (`paperdag.sinkhorn`, geomloss's estimator)."""
    with torch.no_grad():
        return float(sinkhorn_divergence(a[None], b[None], blur=blur, scaling=EVAL_SCALING, fused=fused)[0])


def sinkhorn_floor(problem: Problem, seed: int, n: int, blur: float, fused: bool = False) -> float:
    """S_ε between two independent samples of ν: the divergence a perfect map would still show
    (computed once per problem and seed, shared by every method evaluated in the process)."""
    key = (id(problem), seed, n, blur)
    if key not in _FLOORS:
        ya = problem.sample_target(n, torch.Generator().manual_seed(EVAL_SEED + 10 * seed + 2))
        yb = problem.sample_target(n, torch.Generator().manual_seed(EVAL_SEED + 10 * seed + 3))
        _FLOORS[key] = (problem, eval_divergence(ya, yb, blur, fused))
    return _FLOORS[key][1]


def bures(a: torch.Tensor, b: torch.Tensor) -> float:
    """W2² between the Gaussians with the samples' means and covariances (the Bures–Wasserstein
    distance): unlike a minibatch Sinkhorn divergence, shrinking a map's output cannot lower it."""
    sa, sb = a.double().numpy(), b.double().numpy()
    return frechet_distance_from_stats(sa.mean(0), np.cov(sa, rowvar=False), sb.mean(0), np.cov(sb, rowvar=False))


def variance_ratio(mapped: torch.Tensor, target: torch.Tensor) -> float:
    """tr Cov(T#μ̂) / tr Cov(ν̂): 1 for a map that carries ν's spread, < 1 for a shrinking one."""
    return float(mapped.var(0, unbiased=False).sum() / target.var(0, unbiased=False).sum())


def shrunk(mapped: torch.Tensor, factor: float) -> torch.Tensor:
    """The map's output pulled towards its mean: the failure a fit measure must catch."""
    mean = mapped.mean(0, keepdim=True)
    return mean + factor * (mapped - mean)


def fit_metrics(x: torch.Tensor, mapped: torch.Tensor, problem: Problem, seed: int, shrink: float) -> dict[str, float]:
    """Bures W2² to ν and its ν-vs-ν floor (same sample size), the variance ratio, and both for
    the map's output shrunk by `shrink` (the fit claims' negative control)."""
    ya = problem.sample_target(len(x), torch.Generator().manual_seed(EVAL_SEED + 10 * seed + 4))
    yb = problem.sample_target(len(x), torch.Generator().manual_seed(EVAL_SEED + 10 * seed + 5))
    small = shrunk(mapped, shrink)
    return {"bures": bures(mapped, ya), "bures_floor": bures(yb, ya), "var_ratio": variance_ratio(mapped, ya),
            "bures_shrunk": bures(small, ya), "var_ratio_shrunk": variance_ratio(small, ya)}


def evaluate_map(problem: Problem, apply: Callable[[torch.Tensor], torch.Tensor], seed: int, cfg: dict) -> dict[str, float]:
    """L2-UVP, cosine, Sinkhorn divergence to ν (and its floor), Bures W2² (and its floor), the
    variance ratio, exact Monge gap."""
    x = problem.sample_source(cfg["n_eval"], torch.Generator().manual_seed(EVAL_SEED))
    true_mapped = problem.true_map(x)
    mapped = apply(x).detach()
    xs = problem.sample_source(cfg["n_eval_sinkhorn"], torch.Generator().manual_seed(EVAL_SEED + 10 * seed + 1))
    ys = problem.sample_target(cfg["n_eval_sinkhorn"], torch.Generator().manual_seed(EVAL_SEED + 10 * seed + 2))
    fused = cfg["training"]["fused_sinkhorn"]
    sinkhorn = eval_divergence(apply(xs).detach(), ys, cfg["eval_blur"], fused)
    n_mg = cfg["n_exact_mg"]
    disp = float(displacement_cost(x[:n_mg], mapped[:n_mg]))
    gap = exact_monge_gap(x[:n_mg], mapped[:n_mg])
    return {
        "l2_uvp": l2_uvp(mapped, true_mapped),
        "cosine": cosine_metric(x, mapped, true_mapped),
        "sinkhorn": sinkhorn,
        "sinkhorn_floor": sinkhorn_floor(problem, seed, cfg["n_eval_sinkhorn"], cfg["eval_blur"], fused),
        "exact_mg": gap,
        "displacement_cost": disp,
        "exact_mg_rel": gap / disp if disp > 0 else float("nan"),
        **fit_metrics(x, mapped, problem, seed, cfg["shrink_control"]),
    }
