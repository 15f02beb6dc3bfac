"""Strong data-processing (SDPI) coefficients of noisy layers, and their exact check.

Closed forms (protocol §2.3; derived for this project from a Doeblin/erasure argument and
checked numerically, *not* taken from the paper, whose theorem statements were not readable;
unverified against the paper). p is the **drop** probability:

- Dropout on a layer with d_in inputs: T = tanh(W (M ⊙ t)), M_k ~ Bernoulli(1 − p) i.i.d.
  With probability p^{d_in} every input is dropped and the output is tanh(0) whatever t is,
  so the channel is a mixture with an erasure and η_KL ≤ η_TV ≤ 1 − p^{d_in}.
- DropConnect: each of the d_in·d_out weights is dropped: η ≤ 1 − p^{d_in·d_out}.
- Gaussian noise, T = φ(W t) + N(0, β²I_{d_out}) with |φ| ≤ 1:
  η_KL ≤ η_TV = sup TV ≤ 2Φ(√d_out/β) − 1.

The check: for discrete inputs (a finite support) the dropout and DropConnect channels have
finite output alphabets, so PK and QK are computed exactly by enumerating every mask, and the
KL ratio D(PK‖QK)/D(P‖Q) is measured over random pairs (P, Q). The noise channel's output
is a Gaussian mixture; its KL is integrated on a dense grid (d_out ≤ 2).
Inverted-dropout rescaling (1/(1 − p)) is left out: it is a bijection and changes no KL.
"""
from __future__ import annotations

import itertools

import numpy as np
from scipy.special import ndtr, rel_entr


def dropout_eta(p: float, d_in: int) -> float:
    """SDPI coefficient bound of dropout with drop probability p on d_in inputs: 1 − p^{d_in}."""
    return 1.0 - p**d_in


def dropconnect_eta(p: float, d_in: int, d_out: int) -> float:
    """SDPI coefficient bound of DropConnect on a d_out × d_in weight matrix: 1 − p^{d_in·d_out}."""
    return 1.0 - p ** (d_in * d_out)


def noise_eta(beta: float, d_out: int) -> float:
    """SDPI (TV) coefficient bound of bounded activations plus N(0, β²I): 2Φ(√d_out/β) − 1."""
    return 2.0 * ndtr(np.sqrt(d_out) / beta) - 1.0


def binary_masks(k: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """All 2^k keep-masks over k units and their probabilities (each unit dropped w.p. p)."""
    masks = np.array(list(itertools.product((0.0, 1.0), repeat=k)))
    kept = masks.sum(axis=1)
    return masks, (1.0 - p) ** kept * p ** (k - kept)


def _kernel_from_outputs(outputs: np.ndarray, probs: np.ndarray, decimals: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Turn per-(input, mask) outputs (m, K, d_out) into a Markov kernel on distinct output points."""
    m, k, d_out = outputs.shape
    flat = np.round(outputs.reshape(m * k, d_out), decimals) + 0.0  # +0.0 merges −0.0 with 0.0
    points, index = np.unique(flat, axis=0, return_inverse=True)
    kernel = np.zeros((m, len(points)))
    np.add.at(kernel, (np.repeat(np.arange(m), k), index.ravel()), np.tile(probs, m))
    return kernel, points


def dropout_kernel(support: np.ndarray, weight: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact kernel of t ↦ tanh(W (M ⊙ t)) on a finite support (m, d_in); W is (d_out, d_in)."""
    masks, probs = binary_masks(support.shape[1], p)
    outputs = np.tanh(np.einsum("kj,mj,ij->mki", masks, support, weight))
    return _kernel_from_outputs(outputs, probs)


def dropconnect_kernel(support: np.ndarray, weight: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact kernel of t ↦ tanh((M ⊙ W) t), one Bernoulli mask entry per weight."""
    d_out, d_in = weight.shape
    masks, probs = binary_masks(d_in * d_out, p)
    outputs = np.tanh(np.einsum("kij,ij,mj->mki", masks.reshape(-1, d_out, d_in), weight, support))
    return _kernel_from_outputs(outputs, probs)


def kl(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """D(p‖q) in nats along the last axis (0·log 0 = 0)."""
    return rel_entr(p, q).sum(axis=-1)


def contraction_ratios(kernel: np.ndarray, pairs: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """D(PK‖QK)/D(P‖Q) for a batch of input-distribution pairs (P, Q), each (n_pairs, m)."""
    p, q = pairs
    return kl(p @ kernel, q @ kernel) / kl(p, q)


def random_pairs(rng: np.random.Generator, n_pairs: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Random pairs of full-support distributions on m points (flat Dirichlet)."""
    return rng.dirichlet(np.ones(m), n_pairs), rng.dirichlet(np.ones(m), n_pairs)


def noise_mixture_kl(centres: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], beta: float,
                     points_per_beta: int = 10) -> np.ndarray:
    """D(PK‖QK) for K(t) = N(centre_t, β²I), by trapezoid quadrature on a grid (d_out ≤ 2).

    The integrand is smooth and Gaussian-tailed, so a grid of step β/points_per_beta over
    [min − 9β, max + 9β] is accurate far below the 1e-6 tolerance.
    """
    d_out = centres.shape[1]
    if d_out > 2:
        raise ValueError("grid quadrature is only used for d_out ≤ 2")
    h = beta / points_per_beta
    axes = [np.arange(centres[:, j].min() - 9 * beta, centres[:, j].max() + 9 * beta + h, h) for j in range(d_out)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d_out)
    sq = ((grid[None, :, :] - centres[:, None, :]) ** 2).sum(-1)
    dens = np.exp(-0.5 * sq / beta**2) / (2 * np.pi * beta**2) ** (d_out / 2)  # (m, G)
    p, q = pairs
    return kl(p @ dens, q @ dens) * h**d_out


def compose(kernels: list[np.ndarray]) -> np.ndarray:
    """The kernel of a chain of layers (row-stochastic matrices multiplied in order)."""
    out = kernels[0]
    for k in kernels[1:]:
        out = out @ k
    return out
