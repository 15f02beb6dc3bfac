"""The analytic binary-Gaussian testbed with a linear network whose first layer is learned.

Protocol §2.5 (derived for this project and checked numerically; the paper's own
theorem notation was not readable, so the exact form of its examples is unverified):

- Data: Y ~ U{±1}, X | Y ~ N(Yμ, σ²I_d). Then V = Y X ~ N(μ, σ²I), independent of Y,
  and the learning algorithm sees the data only through μ̂ = (1/n) Σ_i V_i ~ N(μ, σ²I/n).
- Network: layer 1 has μ̂ᵀ as its first row and fixed random rows below it; hidden layers
  2…L−1 are fixed Gaussian matrices (gain/√fan_in); the scalar output layer is v = A_{L−1}μ̂
  (the mean rule in feature space), with A_l = W_l⋯W_1. The predictor is w = A_{L−1}ᵀA_{L−1}μ̂.
- Given W (i.e. given μ̂), a training sample has V_i ~ N(μ̂, σ²(1−1/n)I) and a test sample
  V' ~ N(μ, σ²I). Because (T_l, Y) ↔ (A_l V, Y) and Y is independent of V with the same law
  on both sides, every per-layer divergence is one between two Gaussians on rowspace(A_l).

Everything here is vectorised over a leading axis of Monte Carlo draws of μ̂ (no Python
loops over draws); the fixed random weights are drawn once per (architecture, d, seed).
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

SUBGAUSS_01 = 0.5  # the 0-1 loss lies in [0, 1], so it is 1/2-sub-Gaussian (Hoeffding)


@dataclass(frozen=True)
class Network:
    """Fixed (data-independent) parts of one linear network.

    `rows`: the (d_1 − 1) × d random rows of layer 1 below the learned row μ̂ᵀ.
    `hidden`: W_2 … W_{L−1}, each (d_l × d_{l−1}). The output layer is data-dependent.
    """

    name: str
    d: int
    widths: tuple[int, ...]  # d_1 … d_{L−1} (hidden widths); the output width is 1
    rows: np.ndarray
    hidden: tuple[np.ndarray, ...]

    @property
    def n_layers(self) -> int:
        """L: the number of weight layers (hidden layers + the scalar output layer)."""
        return len(self.widths) + 1

    @property
    def layer_widths(self) -> list[int]:
        """Widths of T_0 … T_L."""
        return [self.d, *self.widths, 1]


def class_mean(d: int, norm: float) -> np.ndarray:
    """μ = ‖μ‖·e_1 (the testbed is rotation invariant up to the fixed random weights)."""
    mu = np.zeros(d)
    mu[0] = norm
    return mu


def network_seed(seed: int, arch: str, d: int) -> int:
    """A stable seed per (seed, architecture, d) for the fixed random weights."""
    return int(np.random.SeedSequence([seed, zlib.crc32(arch.encode()), d]).generate_state(1)[0])


def hidden_widths(d: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Hidden widths as fractions of the input dimension (at least 1 unit each)."""
    return tuple(max(1, int(round(f * d))) for f in fractions)


def make_network(name: str, d: int, fractions: Sequence[float], gains: Sequence[float], seed: int) -> Network:
    """Draw the fixed weights: N(0, 1/d) rows in layer 1, N(0, gain²/fan_in) hidden layers."""
    if len(gains) != len(fractions):
        raise ValueError(f"architecture {name}: {len(fractions)} widths but {len(gains)} gains")
    widths = hidden_widths(d, fractions)
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((widths[0] - 1, d)) * gains[0] / np.sqrt(d)
    hidden = tuple(rng.standard_normal((w_out, w_in)) * g / np.sqrt(w_in)
                   for w_in, w_out, g in zip(widths[:-1], widths[1:], gains[1:]))
    return Network(name=name, d=d, widths=widths, rows=rows, hidden=hidden)


def _left_multiply(w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """w @ a[i] for every draw i, as one BLAS call: w (k, j), a (N, j, d) → (N, k, d)."""
    return np.ascontiguousarray(np.tensordot(a, w, axes=([1], [1])).transpose(0, 2, 1))


def layer_maps(net: Network, mu_hat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The linear maps A_l: X ↦ T_l for l = 0…L, and the read-outs u_l with output = u_lᵀT_l.

    mu_hat: (N, d) draws. Returns `maps` [(N, d_l, d)] and `readouts` [(N, d_l)];
    maps[L] is wᵀ (N, 1, d) and readouts[0] is the predictor w itself.
    """
    n_draws, d = mu_hat.shape
    rows = np.broadcast_to(net.rows, (n_draws, *net.rows.shape))
    maps = [np.broadcast_to(np.eye(d), (n_draws, d, d)), np.concatenate([mu_hat[:, None, :], rows], axis=1)]
    for w in net.hidden:
        maps.append(_left_multiply(w, maps[-1]))
    v = (maps[-1] @ mu_hat[..., None])[..., 0]  # output layer: v = A_{L−1} μ̂
    maps.append(v[:, None, :] @ maps[-1])
    readouts = [v]
    for w in reversed(net.hidden):
        readouts.append(readouts[-1] @ w)
    readouts.append((readouts[-1][:, None, :] @ maps[1])[:, 0, :])  # u_0 = w
    readouts = readouts[::-1] + [np.ones((n_draws, 1))]
    return maps, readouts


def rowspace_projection(maps: np.ndarray, vec: np.ndarray, rtol: float = 1e-11) -> tuple[np.ndarray, np.ndarray]:
    """‖P_{rowspace(A)} x‖² and rank(A) for a batch: maps (N, k, d), vec (N, d).

    Uses the eigendecomposition of the smaller Gram matrix (AAᵀ or AᵀA): much cheaper than
    a batched SVD for the many small matrices here. Eigenvalues below rtol·λ_max are zero.
    """
    if maps.strides[0] == 0:  # the same map for every draw (e.g. A_0 = I): one decomposition
        maps = maps[:1]
    k, d = maps.shape[1:]
    full = _full_rank_projection(maps, vec, rtol)
    if full is not None:
        return full, np.full(len(vec), min(k, d))
    if k <= d:
        lam, u = np.linalg.eigh(maps @ maps.transpose(0, 2, 1))
        keep = lam > rtol * lam[:, -1:]
        coeff_sq = np.einsum("nki,nk->ni", u, np.einsum("nkd,nd->nk", maps, vec)) ** 2 / np.where(keep, lam, 1.0)
    else:
        lam, v = np.linalg.eigh(maps.transpose(0, 2, 1) @ maps)
        keep = lam > rtol * lam[:, -1:]
        coeff_sq = np.einsum("ndi,nd->ni", np.broadcast_to(v, (len(vec), d, d)), vec) ** 2
    keep = np.broadcast_to(keep, coeff_sq.shape)
    return np.where(keep, coeff_sq, 0.0).sum(axis=1), keep.sum(axis=1)


def _full_rank_projection(maps: np.ndarray, vec: np.ndarray, rtol: float) -> np.ndarray | None:
    """The fast path: if every Gram matrix is well-conditioned positive definite (A of full rank),
    ‖Pδ‖² = (Aδ)ᵀ(AAᵀ)⁻¹(Aδ) (k ≤ d) or ‖δ‖² (k > d). None when some A may be rank-deficient."""
    k, d = maps.shape[1:]
    gram = maps @ maps.transpose(0, 2, 1) if k <= d else maps.transpose(0, 2, 1) @ maps
    try:
        pivots = np.diagonal(np.linalg.cholesky(gram), axis1=1, axis2=2) ** 2
    except np.linalg.LinAlgError:
        return None
    if not (pivots >= rtol * np.diagonal(gram, axis1=1, axis2=2).max(axis=1, keepdims=True)).all():
        return None
    if k > d:
        return np.broadcast_to((vec**2).sum(axis=1), (len(vec),)).copy()
    g = (maps @ vec[..., None])[..., 0]
    return np.einsum("nk,nk->n", g, np.linalg.solve(gram, g[..., None])[..., 0])


def kl_per_layer(mu_hat: np.ndarray, mu: np.ndarray, sigma: float, n: int,
                 maps: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-W KL terms D_l(W) = D(P_{T_l^i,Y_i|W} ‖ P_{T_l',Y'|W}) for each layer.

    Args:
        mu_hat: (N, d) draws of the learned mean μ̂ (W depends on S only through it).
        mu: (d,) the class mean μ.
        sigma: the noise scale σ.
        n: the training-set size.
        maps: [A_0, …, A_L], each (N, d_l, d), e.g. from `layer_maps`.
    Returns:
        D: (N, L+1) with D_l = ½[−r/n − r·ln(1−1/n) + ‖V_lᵀ(μ̂−μ)‖²/σ²], r = rank(A_l),
        V_l an orthonormal basis of rowspace(A_l); and the ranks (N, L+1).
    """
    delta = mu_hat - mu
    proj, ranks = zip(*(rowspace_projection(a, delta) for a in maps))
    ranks = np.stack(ranks, axis=1)
    return kl_from_projection(np.stack(proj, axis=1), ranks, sigma, n), ranks


def kl_from_projection(proj: np.ndarray, rank: np.ndarray, sigma: float, n: int) -> np.ndarray:
    """D_l = ½[−r/n − r·ln(1−1/n) + ‖V_lᵀ(μ̂−μ)‖²/σ²] from the projection and the rank."""
    return 0.5 * (-rank / n - rank * np.log1p(-1.0 / n) + proj / sigma**2)


def true_gen_error(w: np.ndarray, mu: np.ndarray, mu_hat: np.ndarray, sigma: float, n: int) -> np.ndarray:
    """Exact expected 0-1 generalisation error given W, for each draw.

    Args:
        w: (N, d) predictors (the classifier is sign(wᵀx)).
        mu: (d,) class mean; mu_hat: (N, d) the learned means that produced w.
        sigma: noise scale; n: training-set size.
    Returns:
        (N,) gen(W) = Φ(−wᵀμ/(σ‖w‖)) − Φ(−wᵀμ̂/(σ√(1−1/n)‖w‖)): test error minus the
        expected training error given W. Average over draws for E[gen].
    """
    norm = np.linalg.norm(w, axis=1)
    test = ndtr(-(w @ mu) / (sigma * norm))
    train = ndtr(-np.einsum("nd,nd->n", w, mu_hat) / (sigma * np.sqrt(1.0 - 1.0 / n) * norm))
    return test - train


def _expected_hinge(c: float | np.ndarray, mean: np.ndarray, std: float | np.ndarray) -> np.ndarray:
    """E[(c − M)_+] for M ~ N(mean, std²)."""
    z = (c - mean) / std
    return (c - mean) * ndtr(z) + std * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)


def expected_ramp(mean: np.ndarray, std: float | np.ndarray, margin: float) -> np.ndarray:
    """E[ramp(M)] for M ~ N(mean, std²), ramp(m) = clip((γ − m)/(2γ), 0, 1), γ = margin."""
    return (_expected_hinge(margin, mean, std) - _expected_hinge(-margin, mean, std)) / (2 * margin)


def ramp_gen_error(w: np.ndarray, mu: np.ndarray, mu_hat: np.ndarray, sigma: float, n: int, margin: float) -> np.ndarray:
    """Exact generalisation error given W of the ramp loss on the normalised margin yWᵀx/‖w‖.

    The 0-1 loss is not Lipschitz, so a W1 bound says nothing about it; this bounded,
    1/(2γ)-Lipschitz surrogate is the loss the W1 bound is checked against.
    """
    norm = np.linalg.norm(w, axis=1)
    test = expected_ramp((w @ mu) / norm, sigma, margin)
    train = expected_ramp(np.einsum("nd,nd->n", w, mu_hat) / norm, sigma * np.sqrt(1.0 - 1.0 / n), margin)
    return test - train


def gaussian_w1_1d(mean_a: np.ndarray, std_a: float | np.ndarray, mean_b: np.ndarray, std_b: float | np.ndarray) -> np.ndarray:
    """Exact W1 between 1-D Gaussians: ∫₀¹ |F_a⁻¹(u) − F_b⁻¹(u)| du = E|Δ + (s_a − s_b)Z|.

    The quantile integral of two Gaussians is the mean of a folded normal, in closed form.
    """
    shift = np.asarray(mean_a - mean_b, dtype=float)
    spread = np.abs(np.asarray(std_a - std_b, dtype=float)) + np.zeros_like(shift)
    out = np.abs(shift)
    pos = spread > 0
    s, m = spread[pos], shift[pos]
    out[pos] = s * np.sqrt(2 / np.pi) * np.exp(-0.5 * (m / s) ** 2) + m * (1 - 2 * ndtr(-m / s))
    return out


def gaussian_w2_proportional(mean_shift_sq: np.ndarray, trace_cov: np.ndarray, c: float) -> np.ndarray:
    """W2 between N(m_a, cΣ) and N(m_b, Σ): √(‖m_a − m_b‖² + (1 − √c)²·tr Σ) (commuting covariances)."""
    return np.sqrt(mean_shift_sq + (1.0 - np.sqrt(c)) ** 2 * trace_cov)
