"""The testbed's layer quantities in O(width·d) per draw, from the rank-one structure of A_l.

Every hidden map is a fixed matrix plus a rank-one data-dependent term:
A_l = b_l μ̂ᵀ + C_l, with A_0 = I (b_0 = 0, C_0 = I), A_1 = e_1 μ̂ᵀ + [0; R] and, for
2 ≤ l ≤ L−1, b_l = B_l e_1, C_l = B_l [0; R] with B_l = W_l⋯W_2 fixed. Hence
- A_l δ = b_l (μ̂ᵀδ) + C_l δ and tr(A_lA_lᵀ) = ‖b_l‖²‖μ̂‖² + 2 μ̂ᵀC_lᵀb_l + ‖C_l‖²_F;
- rowspace(A_l) = {(xᵀb_l) μ̂ + C_lᵀx}. With E an orthonormal basis of rowspace(C_l):
  if b_l ∉ range(C_l), it is rowspace(C_l) ⊕ span(μ̂), and the projection adds the
  Gram–Schmidt component of μ̂; otherwise b_l = C_l c and it is (I + μ̂cᵀ)·rowspace(C_l),
  spanned by E + μ̂aᵀ (a = Eᵀc), whose Gram matrix is a rank-2 update of I (Woodbury).
The dense path (`testbed.layer_maps` + `testbed.kl_per_layer`) computes the same numbers in
O(width²·d) per draw; the unit tests check that the two agree. This one makes d = 1000 usable.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from paperdag.papers.it_bounds.testbed import Network

RTOL = 1e-10


@dataclass(frozen=True)
class _Layer:
    b: np.ndarray  # (w,)
    c: np.ndarray  # (w, d)
    basis: np.ndarray  # (d, r): orthonormal basis of rowspace(C)
    in_range: bool  # b ∈ range(C)
    a: np.ndarray  # (r,): Eᵀc where b = C c (only if in_range)
    ctb: np.ndarray  # (d,): Cᵀb
    c_fro2: float


def _layer(b: np.ndarray, c: np.ndarray) -> _Layer:
    u, s, vh = np.linalg.svd(c, full_matrices=False)
    keep = s > RTOL * max(s[0], 1e-300) * max(c.shape) if s.size else np.zeros(0, bool)
    u, s, basis = u[:, keep], s[keep], vh[keep].T
    b_perp = b - u @ (u.T @ b)
    in_range = bool(np.linalg.norm(b_perp) <= 1e-9 * max(np.linalg.norm(b), 1e-300))
    a = (u.T @ b) / s if in_range else np.zeros(len(s))  # c = E diag(1/s) Uᵀ b, so Eᵀc = Uᵀb / s
    return _Layer(b=b, c=c, basis=basis, in_range=in_range, a=a, ctb=c.T @ b, c_fro2=float((c**2).sum()))


@dataclass(frozen=True)
class FactoredNetwork:
    """The fixed factors (b_l, C_l) of the hidden maps l = 0…L−1 of one network."""

    net: Network
    layers: tuple[_Layer, ...]

    @classmethod
    def build(cls, net: Network) -> FactoredNetwork:
        d, d1 = net.d, net.widths[0]
        c1 = np.vstack([np.zeros((1, d)), net.rows])
        layers = [_layer(np.zeros(d), np.eye(d)), _layer(np.eye(d1)[0], c1)]
        b = np.eye(d1)
        for w in net.hidden:
            b = w @ b
            layers.append(_layer(b[:, 0].copy(), b @ c1))
        return cls(net=net, layers=tuple(layers))


def _projection(layer: _Layer, mu_hat: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """‖P_{rowspace(A_l)} δ‖² and rank(A_l) per draw."""
    e = layer.basis
    m, t = mu_hat @ e, delta @ e  # (N, r)
    r = e.shape[1]
    if not layer.in_range:
        perp = mu_hat - m @ e.T
        norm2 = (perp**2).sum(1)
        extra = norm2 > (RTOL * (mu_hat**2).sum(1))
        comp = np.where(extra, (perp * delta).sum(1) ** 2 / np.where(extra, norm2, 1.0), 0.0)
        return (t**2).sum(1) + comp, r + extra.astype(int)
    a = np.broadcast_to(layer.a, m.shape)
    g = t + a * (mu_hat * delta).sum(1, keepdims=True)  # Bᵀδ
    u = np.stack([a, m], axis=2)  # (N, r, 2)
    nrm = (mu_hat**2).sum(1)
    s_inv = np.zeros((len(m), 2, 2))
    s_inv[:, 0, 1] = s_inv[:, 1, 0] = 1.0
    s_inv[:, 1, 1] = -nrm
    h = np.einsum("nri,nr->ni", u, g)
    inner = s_inv + np.einsum("nri,nrj->nij", u, u)
    return (g**2).sum(1) - np.einsum("ni,ni->n", h, np.linalg.solve(inner, h[..., None])[..., 0]), np.full(len(m), r)


def factored_quantities(fn: FactoredNetwork, mu: np.ndarray, mu_hat: np.ndarray) -> dict[str, np.ndarray]:
    """Per draw: ‖P_l δ‖², ranks, ‖A_lδ‖², tr(A_lA_lᵀ) and ‖u_l‖ for l = 0…L, and the predictor w."""
    delta = mu_hat - mu
    mu_d = (mu_hat * delta).sum(1)
    nrm = (mu_hat**2).sum(1)
    proj, rank, shift, trace = [], [], [], []
    for layer in fn.layers:
        p, r = _projection(layer, mu_hat, delta)
        proj.append(p)
        rank.append(r)
        shift.append(((layer.b[None, :] * mu_d[:, None] + delta @ layer.c.T) ** 2).sum(1))
        trace.append((layer.b @ layer.b) * nrm + 2 * mu_hat @ layer.ctb + layer.c_fro2)
    last = fn.layers[-1]
    v = last.b[None, :] * nrm[:, None] + mu_hat @ last.c.T  # v = A_{L−1} μ̂
    w = mu_hat * (v @ last.b)[:, None] + v @ last.c  # w = A_{L−1}ᵀ v
    w2 = (w**2).sum(1)
    proj.append((w * delta).sum(1) ** 2 / w2)
    rank.append(np.ones(len(w), int))
    shift.append((w * delta).sum(1) ** 2)
    trace.append(w2)
    readouts = [v]
    for hidden in reversed(fn.net.hidden):
        readouts.append(readouts[-1] @ hidden)
    norms = [np.sqrt(w2)] + [np.linalg.norm(u, axis=1) for u in reversed(readouts)] + [np.ones(len(w))]  # u_0 = w
    return {"proj": np.stack(proj, 1), "rank": np.stack(rank, 1), "shift_sq": np.stack(shift, 1),
            "trace": np.stack(trace, 1), "readout_norm": np.stack(norms, 1), "w": w}
