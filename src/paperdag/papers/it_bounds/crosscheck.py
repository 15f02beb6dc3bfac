"""Sample-based cross-check of the exact 1-D W1 at the scalar output (POT).

For a few draws of μ̂, `samples_1d` samples of the output wᵀV under the training law
N(wᵀμ̂, σ²(1−1/n)‖w‖²) and under the test law N(wᵀμ, σ²‖w‖²) are compared with POT's 1-D W1
against the exact quantile W1 (`testbed.gaussian_w1_1d`), in units of the output's scale σ‖w‖.
Its negative control is POT's W1 between two samples of the training law (a sampler that misses
the train/test shift): it must be far from the exact value.

The multi-dimensional check of the hidden layers (POT exact OT and a Sinkhorn divergence on 400
points in up to 20 dimensions) was removed: empirical OT between finite samples is biased
upwards roughly as m^(−1/rank), and it reported W1 up to 5.65× the closed-form W2, which the true
laws cannot reach (W1 ≤ W2), so it could not check anything.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import ot

from paperdag.papers.it_bounds.bounds import draw_mu_hat
from paperdag.papers.it_bounds.testbed import class_mean, gaussian_w1_1d, layer_maps, make_network, network_seed


def run_crosscheck(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    cc = cfg["crosscheck"]
    d, n, sigma, big = cc["d"], cc["n"], cfg["sigma"], cc["samples_1d"]
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
            w = np.asarray(maps[-1][k])[0]
            scale = float(sigma * np.linalg.norm(w))
            exact = float(gaussian_w1_1d(np.array([w @ mu_hat[k]]), np.sqrt(c) * scale, np.array([w @ mu]), scale)[0])
            train = w @ mu_hat[k] + np.sqrt(c) * scale * rng.standard_normal(big)
            test = w @ mu + scale * rng.standard_normal(big)
            null = w @ mu_hat[k] + np.sqrt(c) * scale * rng.standard_normal(big)  # the training law again
            cases.append(
                {
                    "arch": arch,
                    "d": d,
                    "n": n,
                    "draw": k,
                    "layer": len(maps) - 1,
                    "output_scale": scale,
                    "w1_exact_1d": exact,
                    "w1_pot_1d": float(ot.wasserstein_1d(train, test, p=1)),
                    "w1_pot_1d_null": float(ot.wasserstein_1d(train, null, p=1)),
                }
            )
    return cases
