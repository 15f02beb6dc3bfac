"""The six f-divergences of the paper's Table 1 and the weighting h(r) = f''(r)·r².

r = p_teacher(x_t)/q_student(x_t). Checked against FastGen's `f_distill.py` per the
protocol (keys rkl, sf, js, sh, kl, jf). Both normalisations of §2.3 are here: the
ratio divided by its per-time-bin mean (EMA), then h divided by its batch mean.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# name -> (f(r), h(r)); f is kept for the closed-form tests (h = f''·r²).
DIVERGENCES: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]] = {
    "rkl": (lambda r: -torch.log(r), lambda r: torch.ones_like(r)),
    "sf": (lambda r: (r + 1) * torch.log(0.5 + 1 / (2 * r)), lambda r: 1 / (r + 1)),
    "js": (lambda r: r * torch.log(r) - (r + 1) * torch.log((r + 1) / 2), lambda r: r / (r + 1)),
    "sh": (lambda r: 1 - torch.sqrt(r), lambda r: 0.25 * torch.sqrt(r)),
    "kl": (lambda r: r * torch.log(r), lambda r: r),
    "jf": (lambda r: (r - 1) * torch.log(r), lambda r: r + 1),
}
NAMES = {
    "rkl": "reverse-KL",
    "sf": "softened RKL",
    "js": "Jensen-Shannon",
    "sh": "squared Hellinger",
    "kl": "forward-KL",
    "jf": "Jeffreys",
}


def f_value(name: str, r: torch.Tensor) -> torch.Tensor:
    """f(r) of the divergence `name` (D_f(p‖q) = E_q f(p/q))."""
    return DIVERGENCES[name][0](r)


def weighting(name: str, r: torch.Tensor) -> torch.Tensor:
    """h(r) = f''(r)·r² of the divergence `name`, computed in float32."""
    if name not in DIVERGENCES:
        raise KeyError(f"unknown divergence '{name}'; known: {sorted(DIVERGENCES)}")
    return DIVERGENCES[name][1](torch.as_tensor(r, dtype=torch.float32))


def density_ratio(logit: torch.Tensor, logit_clamp: float, r_min: float, r_max: float) -> torch.Tensor:
    """r = exp(clamp(logit)), clipped to [r_min, r_max]; the discriminator is trained with real = 1."""
    return torch.exp(logit.float().clamp(-logit_clamp, logit_clamp)).clamp(r_min, r_max)


def bin_normalise(r: torch.Tensor, bins: torch.Tensor, ema: torch.Tensor, rate: float) -> torch.Tensor:
    """Divide r (M, N) by the EMA of its time bin's mean; update `ema` (M, n_bins) in place.

    rate 0 uses the current batch's bin mean; a bin absent from the batch keeps its old value.
    """
    n_bins = ema.shape[1]
    onehot = torch.nn.functional.one_hot(bins, n_bins).to(r.dtype)  # (M, N, K)
    counts = onehot.sum(1)
    means = (onehot * r.unsqueeze(-1)).sum(1) / counts.clamp_min(1)
    new = torch.where(counts > 0, rate * ema + (1 - rate) * means, ema)
    ema.copy_(new)
    return r / torch.gather(new, 1, bins)


def normalised_weights(names: list[str], r: torch.Tensor, normalise: torch.Tensor | None = None) -> torch.Tensor:
    """h_m(r_m) / mean_batch(h_m(r_m)) for each model m; `names[m]` is model m's divergence. r: (M, N).
    `normalise` (M,) bool: the models that divide by the batch mean (all if None; the ablation turns it off)."""
    h = torch.stack([weighting(n, r[i]) for i, n in enumerate(names)])
    normed = h / h.mean(dim=1, keepdim=True)
    return normed if normalise is None else torch.where(normalise.unsqueeze(-1), normed, h)
