"""Sample-based cross-check of the closed-form W1/W2 terms (POT exact OT and geomloss Sinkhorn).

For a few draws of μ̂ and every layer, samples of A_l V under the training law
N(μ̂, σ²(1−1/n)I) and the test law N(μ, σ²I) are compared with
- POT's exact empirical W1 (Euclidean cost) and W2 (squared cost), and POT's 1-D W1 at the output;
- the debiased Sinkhorn divergence of `paperdag.metrics` (cost ½‖x−y‖²), read as W2 ≈ √(2S_ε);
against the closed forms: ‖A_l(μ̂−μ)‖ ≤ W1 ≤ W2 (exact), and the exact 1-D W1 at the output.
Empirical OT between finite samples is biased upwards (more so in higher rank), so these are
reported ratios; only the 1-D output value (from `samples_1d` draws) is held to a tolerance,
in units of the output's scale σ‖w‖.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import ot
import torch

from paperdag.metrics import sinkhorn_divergence
from paperdag.papers.it_bounds.bounds import draw_mu_hat
from paperdag.papers.it_bounds.testbed import (
    class_mean,
    gaussian_w1_1d,
    gaussian_w2_proportional,
    layer_maps,
    make_network,
    network_seed,
)


def run_crosscheck(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    cc = cfg["crosscheck"]
    d, n, sigma, m = cc["d"], cc["n"], cfg["sigma"], cc["samples"]
    c = 1.0 - 1.0 / n
    mu = class_mean(d, cfg["mu_norm"])
    rng = np.random.default_rng([cfg["seed"], d, n, 7])
    cases = []
    for arch in cc["architectures"]:
        spec = cfg["architectures"][arch]
        net = make_network(arch, d, spec["widths"], spec["gains"], network_seed(cfg["seed"], arch, d))
        mu_hat = draw_mu_hat(rng, mu, sigma, n, cc["draws"])
        maps, _ = layer_maps(net, mu_hat)
        for k in range(cc["draws"]):
            train = mu_hat[k] + sigma * np.sqrt(c) * rng.standard_normal((m, d))
            test = mu + sigma * rng.standard_normal((m, d))
            for layer, a in enumerate(maps):
                a_k = np.asarray(a[k])
                x, y = train @ a_k.T, test @ a_k.T
                shift = a_k @ (mu_hat[k] - mu)
                w2 = float(gaussian_w2_proportional(shift @ shift, sigma**2 * (a_k**2).sum(), c))
                unif = np.full(m, 1.0 / m)
                w1_pot = float(ot.emd2(unif, unif, ot.dist(x, y, metric="euclidean")))
                w2_pot = float(np.sqrt(ot.emd2(unif, unif, ot.dist(x, y, metric="sqeuclidean"))))
                scale = float(np.sqrt(((a_k**2).sum(1)).max())) * sigma  # blur in the data's own units
                s_eps = sinkhorn_divergence(torch.from_numpy(x), torch.from_numpy(y), blur=cc["blur"] * scale)
                case = {"arch": arch, "d": d, "n": n, "draw": k, "layer": layer, "rank_width": int(a_k.shape[0]),
                        "w1_lower": float(np.linalg.norm(shift)), "w2_closed": w2, "w1_pot": w1_pot, "w2_pot": w2_pot,
                        "w2_sinkhorn": float(np.sqrt(max(2.0 * float(s_eps), 0.0)))}
                if layer == len(maps) - 1:
                    w = a_k[0]
                    case["w1_exact_1d"] = float(gaussian_w1_1d(np.array([w @ mu_hat[k]]), sigma * np.sqrt(c) * np.linalg.norm(w),
                                                               np.array([w @ mu]), sigma * np.linalg.norm(w))[0])
                    big = cc["samples_1d"]
                    u = (mu_hat[k] + sigma * np.sqrt(c) * rng.standard_normal((big, d))) @ w
                    v = (mu + sigma * rng.standard_normal((big, d))) @ w
                    case["w1_pot_1d"] = float(ot.wasserstein_1d(u, v, p=1))
                    case["output_scale"] = float(sigma * np.linalg.norm(w))  # σ‖w‖: the tolerance's unit
                cases.append(case)
    return cases
