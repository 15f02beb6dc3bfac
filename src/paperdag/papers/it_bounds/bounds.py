"""Per-layer bounds on one testbed point (architecture, d, n), over Monte Carlo draws of μ̂.

For each draw W and each layer l = 0…L (protocol §2.1–2.2):
- D_l(W), exact (the O(width·d) factored path of `factored.py`, equal to
  `testbed.kl_per_layer` on the dense maps); the joint KL bound B_KL(l) = √(2s²·E D_l) and the
  per-W bound E_W √(2s²·D_l(W)) (tighter by Jensen), s = 1/2 for the 0-1 loss. The per-W
  inequality |gen(W)| ≤ √(2s²D_l(W)) holds draw by draw, so it is checked per draw too.
- W1_l(W): exact at the scalar output (1-D quantile integral); elsewhere the closed-form W2
  of the two Gaussians, an upper proxy since W1 ≤ W2, with ‖A_l(μ̂−μ)‖ ≤ W1 as a lower end.
  The funnel is argmin_l E W1_l (raw, as protocol §2.2 asks).
- The W1 bound E[ρ_l(W)·W1_l(W)] with ρ_l = Lip(ℓ)·‖u_l‖ for the ramp loss ℓ on the
  normalised margin (Lip = 1/(2γ)): the 0-1 loss has no Lipschitz constant, so the W1 bound
  is checked against the ramp loss's exact generalisation error. The representation is taken
  as the label-signed U_l = Y·T_l = A_l V (a bijection of (T_l, Y), Y independent of V).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from paperdag.papers.it_bounds.factored import FactoredNetwork, factored_quantities
from paperdag.papers.it_bounds.testbed import (
    SUBGAUSS_01,
    Network,
    gaussian_w1_1d,
    gaussian_w2_proportional,
    kl_from_projection,
    ramp_gen_error,
    true_gen_error,
)


def draw_mu_hat(rng: np.random.Generator, mu: np.ndarray, sigma: float, n: int, draws: int) -> np.ndarray:
    """μ̂ = mean of n samples of V ~ N(μ, σ²I), drawn directly as N(μ, σ²I/n): (draws, d)."""
    return mu + sigma / np.sqrt(n) * rng.standard_normal((draws, mu.shape[0]))


def per_draw(
    fn: FactoredNetwork, mu: np.ndarray, mu_hat: np.ndarray, sigma: float, n: int, margin: float
) -> dict[str, np.ndarray]:
    """Every per-draw quantity: (N, L+1) arrays per layer and (N,) arrays for the errors."""
    q = factored_quantities(fn, mu, mu_hat)
    d_kl, ranks = kl_from_projection(q["proj"], q["rank"], sigma, n), q["rank"]
    c = 1.0 - 1.0 / n
    w1 = gaussian_w2_proportional(q["shift_sq"], sigma**2 * q["trace"], c)  # upper proxy at l < L
    w = q["w"]
    w_norm = np.linalg.norm(w, axis=1)
    w1[:, -1] = gaussian_w1_1d(np.einsum("nd,nd->n", w, mu_hat), sigma * np.sqrt(c) * w_norm, w @ mu, sigma * w_norm)
    rho = q["readout_norm"] / (2.0 * margin * w_norm[:, None])  # Lip(ramp)·‖u_l‖, margin normalised by ‖w‖
    shift_sq = q["shift_sq"]
    return {
        "D": d_kl,
        "rank": ranks,
        "kl_perw": np.sqrt(2 * SUBGAUSS_01**2 * np.maximum(d_kl, 0.0)),
        "w1": w1,
        "w1_lower": np.sqrt(shift_sq),
        "w_bound": rho * w1,
        "gen": true_gen_error(w, mu, mu_hat, sigma, n),
        "ramp_gen": ramp_gen_error(w, mu, mu_hat, sigma, n, margin),
    }


def _se(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])


def evaluate_point(
    net: Network,
    mu: np.ndarray,
    sigma: float,
    n: int,
    draws: int,
    margin: float,
    rng: np.random.Generator,
    chunk_elements: int = 2_000_000,
) -> dict[str, Any]:
    """Summaries of one (architecture, d, n) point over `draws` draws, computed in chunks."""
    widest = max(net.layer_widths)
    chunk = max(1, min(draws, chunk_elements // (widest + net.d)))  # per-draw arrays are O(width + d)
    fn = FactoredNetwork.build(net)
    parts = [
        per_draw(fn, mu, draw_mu_hat(rng, mu, sigma, n, min(chunk, draws - s)), sigma, n, margin) for s in range(0, draws, chunk)
    ]
    q = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    gen, ramp = q["gen"], q["ramp_gen"]
    d_mean, d_se = q["D"].mean(0), _se(q["D"])
    kl_joint = np.sqrt(2 * SUBGAUSS_01**2 * d_mean)
    layers = []
    for layer, width in enumerate(net.layer_widths):
        layers.append(
            {
                "layer": layer,
                "width": width,
                "rank_min": int(q["rank"][:, layer].min()),
                "rank_max": int(q["rank"][:, layer].max()),
                "D_mean": d_mean[layer],
                "D_se": d_se[layer],
                "kl_joint": kl_joint[layer],
                "kl_joint_se": SUBGAUSS_01**2 * d_se[layer] / max(kl_joint[layer], 1e-300),
                "kl_perw": q["kl_perw"][:, layer].mean(),
                "kl_perw_se": _se(q["kl_perw"][:, layer]),
                "w1": q["w1"][:, layer].mean(),
                "w1_lower": q["w1_lower"][:, layer].mean(),
                "w1_exact": layer == net.n_layers,
                "w_bound": q["w_bound"][:, layer].mean(),
                "w_bound_se": _se(q["w_bound"][:, layer]),
                "kl_pointwise_slack_min": float((q["kl_perw"][:, layer] - np.abs(gen)).min()),
                "w_pointwise_slack_min": float((q["w_bound"][:, layer] - np.abs(ramp)).min()),
            }
        )
    return {
        "draws": draws,
        "widths": net.layer_widths,
        "n_layers": net.n_layers,
        "gen_mean": gen.mean(),
        "gen_se": _se(gen),
        "gen_abs_mean": np.abs(gen).mean(),
        "ramp_gen_mean": ramp.mean(),
        "ramp_gen_se": _se(ramp),
        "d0_closed_form": -0.5 * net.d * np.log1p(-1.0 / n),
        "kl_max_increase": float(np.diff(q["D"], axis=1).max()),
        "layers": layers,
    }
