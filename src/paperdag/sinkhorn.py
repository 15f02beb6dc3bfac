"""Batched entropic OT between uniform point clouds, for training losses: the Sinkhorn divergence
and the raw entropic cost, with a fused inner loop.

The estimator is geomloss's tensorized `SamplesLoss("sinkhorn")` (Feydy et al. 2019; Feydy's thesis,
Alg. 3.5): ε-scaling from the data's diameter down to the target ε, symmetric (averaged) updates,
then one last extrapolation step under autograd, so the gradient flows through the cost only
(the envelope theorem). `tests/unit/test_sinkhorn.py` checks values and gradients against geomloss.

Why our own: on a CPU a minibatch problem (a few dozen 128 × 128 cost matrices) is bound by
memory passes, and geomloss's soft-min makes six passes over each cost matrix per update. Here
the updates of the loop, which need no autograd, and the last step and its gradient can each run as one kernel (`fused=True`:
`torch.compile`, about 7× faster per update on a CPU). Where compilation is unavailable (no C++
compiler), the loop runs eagerly, with a warning, and gives the same values up to rounding.
Everything works in units of the target ε (costs divided by it), so each batch element may have
its own ε and the kernel sees no Python floats that would trigger recompilation.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable

import torch

log = logging.getLogger(__name__)



def squared_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """‖x_i − y_j‖² for (B, N, D) × (B, M, D) → (B, N, M), by one matrix product (no (B, N, M, D) tensor)."""
    sq = (x * x).sum(-1).unsqueeze(-1) - 2.0 * x @ y.transpose(-1, -2) + (y * y).sum(-1).unsqueeze(-2)
    return sq.clamp_min(0.0)


def softmin(eps: torch.Tensor, cost: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """The soft-C-transform f_i = −ε log Σ_j exp(h_j − C_ij / ε); `eps` is a 0-d tensor, C is (B, N, M), h is (B, M)."""
    return -eps * torch.logsumexp(h.unsqueeze(1) - cost / eps, dim=2)


def plain_update(eps, cxy, cyx, a_log, b_log, f_ba, g_ab):
    """One symmetric (averaged) Sinkhorn update of the x ↔ y potentials at temperature ε."""
    ft_ba = softmin(eps, cxy, b_log + g_ab / eps)
    gt_ab = softmin(eps, cyx, a_log + f_ba / eps)
    return 0.5 * (f_ba + ft_ba), 0.5 * (g_ab + gt_ab)


def debiased_update(eps, cxy, cyx, cxx, cyy, a_log, b_log, f_ba, g_ab, f_aa, g_bb):
    """`plain_update` and the x ↔ x, y ↔ y self-transport updates of the debiased divergence."""
    f_ba, g_ab = plain_update(eps, cxy, cyx, a_log, b_log, f_ba, g_ab)
    f_aa = 0.5 * (f_aa + softmin(eps, cxx, a_log + f_aa / eps))
    g_bb = 0.5 * (g_bb + softmin(eps, cyy, b_log + g_bb / eps))
    return f_ba, g_ab, f_aa, g_bb


def softmin_grad(cost: torch.Tensor, h: torch.Tensor, f: torch.Tensor, grad_f: torch.Tensor) -> torch.Tensor:
    """∂L/∂C of f = softmin(1, C, h): grad_f_i times the transport weights exp(h_j − C_ij + f_i)."""
    return grad_f.unsqueeze(2) * torch.exp(h.unsqueeze(1) - cost + f.unsqueeze(2))


_KERNELS: dict[str, dict[str, Callable]] = {}
_EAGER = {"softmin": softmin, "plain": plain_update, "debiased": debiased_update, "grad": softmin_grad}


def kernels(fused: bool) -> dict[str, Callable]:
    """The loop's functions, eager or compiled into one kernel each (dynamic shapes: one compilation
    serves every problem size); compiled once per process, with an eager fallback."""
    if not fused:
        return _EAGER
    if "fused" not in _KERNELS:
        try:
            compiled = {name: torch.compile(fn, dynamic=True) for name, fn in _EAGER.items()}
            probe = torch.zeros(2, 3, 4)  # sizes > 1, so that no size is specialised
            compiled["softmin"](torch.tensor(1.0), probe, probe[:, 0])
            _KERNELS["fused"] = compiled
        except Exception as err:  # no C++ compiler, or an unsupported platform
            log.warning("torch.compile unavailable (%s: %s); the Sinkhorn loop runs eagerly", type(err).__name__, err)
            _KERNELS["fused"] = _EAGER
    return _KERNELS["fused"]


class _LastSoftmin(torch.autograd.Function):
    """f = softmin(1, C, h) with h fixed (detached potentials): the last, differentiated step, whose
    gradient in C is the transport plan's rows (both directions one fused kernel each)."""

    @staticmethod
    def forward(ctx, cost, h, fused):
        fns = kernels(fused)
        f = fns["softmin"](torch.ones((), dtype=cost.dtype, device=cost.device), cost, h)
        ctx.save_for_backward(cost, h, f)
        ctx.fused = fused
        return f

    @staticmethod
    def backward(ctx, grad_f):
        cost, h, f = ctx.saved_tensors
        return kernels(ctx.fused)["grad"](cost, h, f, grad_f), None, None


def epsilon_schedule(ratio: float, scaling: float) -> list[float]:
    """ε-scaling in units of the target ε: from ratio² (the diameter, squared) down to 1,
    dividing by scaling² at each step (geomloss's `epsilon_schedule` with p = 2)."""
    ratio = max(ratio, 1.0)
    steps = torch.arange(2 * math.log(ratio), 0.0, 2 * math.log(scaling), dtype=torch.float64).exp().tolist()
    return [ratio ** 2, *steps, 1.0]


def _loop(cxy, cyx, cxx, cyy, a_log, b_log, eps_list: list[float], fused: bool):
    """The no-grad symmetric ε-scaling loop; returns the potentials (in units of the target ε)."""
    fns = kernels(fused)
    with torch.no_grad():
        cxy, cyx = cxy.detach(), cyx.detach()
        eps = torch.tensor(eps_list[0], dtype=cxy.dtype, device=cxy.device)
        g_ab, f_ba = fns["softmin"](eps, cyx, a_log), fns["softmin"](eps, cxy, b_log)
        if cxx is None:
            for value in eps_list:
                eps = torch.tensor(value, dtype=cxy.dtype, device=cxy.device)
                f_ba, g_ab = fns["plain"](eps, cxy, cyx, a_log, b_log, f_ba, g_ab)
            return f_ba, g_ab, None, None
        cxx, cyy = cxx.detach(), cyy.detach()
        f_aa, g_bb = fns["softmin"](eps, cxx, a_log), fns["softmin"](eps, cyy, b_log)
        for value in eps_list:
            eps = torch.tensor(value, dtype=cxy.dtype, device=cxy.device)
            f_ba, g_ab, f_aa, g_bb = fns["debiased"](eps, cxy, cyx, cxx, cyy, a_log, b_log, f_ba, g_ab, f_aa, g_bb)
    return f_ba, g_ab, f_aa, g_bb


def _uniform_log_weights(x: torch.Tensor) -> torch.Tensor:
    return torch.full(x.shape[:2], -math.log(x.shape[1]), dtype=x.dtype, device=x.device)


def _solve(x, y, cost: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], eps_list: list[float], debias: bool, fused: bool):
    """Final potentials (f_ba, g_ab, f_aa, g_bb) with the last extrapolation step under autograd.

    As geomloss: the gradient reaches x only through C(x, ·) with the other argument detached.
    """
    a_log, b_log = _uniform_log_weights(x), _uniform_log_weights(y)
    cxy, cyx = cost(x, y.detach()), cost(y, x.detach())
    cxx = cost(x, x.detach()) if debias else None
    cyy = cost(y, y.detach()) if debias else None
    f_ba, g_ab, f_aa, g_bb = _loop(cxy, cyx, cxx, cyy, a_log, b_log, eps_list, fused)
    last = _LastSoftmin.apply
    f_ba, g_ab = last(cxy, (b_log + g_ab).detach(), fused), last(cyx, (a_log + f_ba).detach(), fused)
    if debias:
        f_aa, g_bb = last(cxx, (a_log + f_aa).detach(), fused), last(cyy, (b_log + g_bb).detach(), fused)
    return f_ba, g_ab, f_aa, g_bb


def _diameter(x: torch.Tensor, y: torch.Tensor) -> float:
    """geomloss's bound on the largest distance: the diagonal of the joint bounding box."""
    flat_x, flat_y = x.detach().reshape(-1, x.shape[-1]), y.detach().reshape(-1, y.shape[-1])
    lo = torch.minimum(flat_x.min(0).values, flat_y.min(0).values)
    hi = torch.maximum(flat_x.max(0).values, flat_y.max(0).values)
    return float((hi - lo).norm())


def sinkhorn_divergence(x: torch.Tensor, y: torch.Tensor, blur: float, scaling: float = 0.5, fused: bool = False) -> torch.Tensor:
    """Debiased S_ε(x̂, ŷ) = OT_ε(x̂, ŷ) − ½OT_ε(x̂, x̂) − ½OT_ε(ŷ, ŷ), cost ½‖x − y‖², ε = blur², per batch
    element of (B, N, D) × (B, M, D) → (B,) (geomloss's value and gradient)."""
    scale = blur ** 2

    def cost(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return 0.5 * squared_distances(a, b) / scale

    f_ba, g_ab, f_aa, g_bb = _solve(x, y, cost, epsilon_schedule(_diameter(x, y) / blur, scaling), True, fused)
    return scale * ((f_ba - f_aa).mean(-1) + (g_ab - g_bb).mean(-1))


def entropic_ot(x: torch.Tensor, y: torch.Tensor, cost: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                epsilon: torch.Tensor, scaling: float = 0.5, fused: bool = False) -> torch.Tensor:
    """⟨a, f⟩ + ⟨b, g⟩ of the entropic problem min ⟨P, C⟩ + ε KL(P | a⊗b) per batch element, with a
    per-element ε of shape (B,) (geomloss's `debias=False` value: W_ε + 2ε log n for uniform n-point clouds).

    As geomloss with the cost C/ε and blur 1, the schedule starts at the largest scaled cost.
    """
    eps = epsilon.reshape(-1, 1, 1)

    def scaled(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return cost(a, b) / eps

    with torch.no_grad():
        ratio = math.sqrt(max(float(scaled(x, y).amax()), 1.0))
    f_ba, g_ab, _, _ = _solve(x, y, scaled, epsilon_schedule(ratio, scaling), False, fused)
    return epsilon.reshape(-1) * (f_ba.mean(-1) + g_ab.mean(-1))
