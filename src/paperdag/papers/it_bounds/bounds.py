"""Per-layer bounds on one testbed point (architecture, d, n), over Monte Carlo draws of μ̂.

For each draw W and each layer l = 0…L (protocol §2.1–2.2):
- D_l(W), exact (the O(width·d) factored path of `factored.py`, equal to
  `testbed.kl_per_layer` on the dense maps); the joint KL bound B_KL(l) = √(2s²·E D_l) and the
  per-W bound E_W √(2s²·D_l(W)) (tighter by Jensen), s = 1/2 for the 0-1 loss. The per-W
  inequality |gen(W)| ≤ √(2s²D_l(W)) holds draw by draw, so it is checked per draw too.
- W1_l(W): exact at the scalar output (1-D quantile integral); elsewhere the closed-form W2
  of the two Gaussians, an upper proxy since W1 ≤ W2, with ‖A_l(μ̂−μ)‖ ≤ W1 as a lower end.
  The raw funnel is argmin_l E W1_l (protocol §2.2); raw W1 scales with each layer's arbitrary
  scale, so `w1_norm` = W1_l/(σ·‖A_l‖_F) (W1 in units of the layer's own test spread) is kept too.
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
        "w1_norm": w1 / (sigma * np.sqrt(np.maximum(q["trace"], 1e-300))),  # in units of the layer's own spread
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
    """Summaries of one (architecture, d, n) point over `draws` draws, computed in chunks.

    The draws come in antithetic pairs μ ± δ (δ ~ N(0, σ²I/n)): the error is nearly odd in δ, so the pair
    means have ~10× smaller spread at large n; means are over every draw and standard errors over the
    independent pair means."""
    if draws % 2:
        raise ValueError(f"draws must be even (antithetic pairs), got {draws}")
    widest = max(net.layer_widths)
    half = max(1, min(draws, chunk_elements // (widest + net.d)) // 2)  # per-draw arrays are O(width + d)
    fn = FactoredNetwork.build(net)
    raw, paired = [], []
    for s in range(0, draws // 2, half):
        z = rng.standard_normal((min(half, draws // 2 - s), mu.shape[0]))
        q = per_draw(fn, mu, mu + sigma / np.sqrt(n) * np.concatenate([z, -z]), sigma, n, margin)
        raw.append(q)
        paired.append({k: 0.5 * (v[: len(z)] + v[len(z) :]) for k, v in q.items()})
    q = {k: np.concatenate([p[k] for p in raw]) for k in raw[0]}  # every draw: minima, maxima, pointwise checks
    pq = {k: np.concatenate([p[k] for p in paired]) for k in paired[0]}  # pair means: means and standard errors
    gen, ramp = q["gen"], q["ramp_gen"]
    d_mean, d_se = q["D"].mean(0), _se(pq["D"])
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
                "kl_perw_se": _se(pq["kl_perw"][:, layer]),
                "w1": q["w1"][:, layer].mean(),
                "w1_lower": q["w1_lower"][:, layer].mean(),
                "w1_norm": q["w1_norm"][:, layer].mean(),
                "w1_exact": layer == net.n_layers,
                "w_bound": q["w_bound"][:, layer].mean(),
                "w_bound_se": _se(pq["w_bound"][:, layer]),
                "kl_pointwise_slack_min": float((q["kl_perw"][:, layer] - np.abs(gen)).min()),
                "w_pointwise_slack_min": float((q["w_bound"][:, layer] - np.abs(ramp)).min()),
                # the same with the constants halved (s = 1/4, Lip/2): the negative control of the pointwise check
                "kl_pointwise_slack_half_min": float((0.5 * q["kl_perw"][:, layer] - np.abs(gen)).min()),
                "w_pointwise_slack_half_min": float((0.5 * q["w_bound"][:, layer] - np.abs(ramp)).min()),
            }
        )
    return {
        "draws": draws,
        "widths": net.layer_widths,
        "n_layers": net.n_layers,
        "gen_mean": gen.mean(),
        "gen_se": _se(pq["gen"]),
        "gen_abs_mean": np.abs(gen).mean(),
        "ramp_gen_mean": ramp.mean(),
        "ramp_gen_se": _se(pq["ramp_gen"]),
        "d0_closed_form": -0.5 * net.d * np.log1p(-1.0 / n),
        "kl_max_increase": float(np.diff(q["D"], axis=1).max()),
        "kl_max_decrease": float((-np.diff(q["D"], axis=1)).max()),  # for the control: the layers read in reverse
        "layers": layers,
    }
