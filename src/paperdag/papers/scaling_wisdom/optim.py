"""AdamW for an ensemble: per-model learning rate and weight decay, per-model gradient clipping.

`torch.optim.AdamW` has one learning rate per parameter tensor; here each tensor holds M
models along its first axis, so the peak learning rate and the decoupled weight decay are
vectors of length M. The schedule (linear warm-up, then cosine to `final_frac`·peak) and the
clipping of each model's global gradient norm happen inside `step`, so the optimiser
state (and a resumed checkpoint) holds everything.

Decoupled weight decay follows PyTorch's AdamW: p ← p − η_t·wd·p (it scales with the
scheduled learning rate). Coupled L2 is not here: it is a loss term (see `experiment`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch

from paperdag.training import lr_factor


class BatchedAdamW(torch.optim.Optimizer):
    """AdamW over tensors with a leading model axis; group option `decay` marks decayed tensors."""

    def __init__(self, params: Iterable, lr: Sequence[float], weight_decay: Sequence[float], *, total_steps: int,
                 warmup_steps: int, final_frac: float = 0.0, betas: tuple[float, float] = (0.9, 0.95),
                 eps: float = 1e-8, clip: float | None = 1.0) -> None:
        defaults = dict(decay=True)
        super().__init__(params, defaults)
        self.peak = torch.as_tensor(lr, dtype=torch.float32)
        self.wd = torch.as_tensor(weight_decay, dtype=torch.float32)
        self.total, self.warmup, self.final_frac = total_steps, warmup_steps, final_frac
        self.betas, self.eps, self.clip = betas, eps, clip

    def _params(self) -> list[tuple[torch.Tensor, bool]]:
        return [(p, g["decay"]) for g in self.param_groups for p in g["params"] if p.grad is not None]

    def _view(self, vec: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        return vec.to(p.device).view(-1, *([1] * (p.dim() - 1)))

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        params = self._params()
        if not params:
            return loss
        first = self.state[params[0][0]]
        t = int(first.get("step", 0))
        scale = None
        if self.clip is not None:  # each model's global gradient norm, clipped to `clip`
            sq = sum(p.grad.pow(2).reshape(p.shape[0], -1).sum(1) for p, _ in params)
            scale = (self.clip / (sq.sqrt() + 1e-6)).clamp(max=1.0)
        lr = self.peak * lr_factor(t, self.total, self.warmup, self.final_frac)
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1 ** (t + 1), 1 - b2 ** (t + 1)
        for p, decay in params:
            state = self.state[p]
            if "exp_avg" not in state:
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            g = p.grad if scale is None else p.grad.mul_(self._view(scale, p))  # in place: the gradient is not read again
            state["exp_avg"].lerp_(g, 1 - b1)
            state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
            lr_p = self._view(lr, p)
            if decay:
                p.mul_(1 - lr_p * self._view(self.wd, p))
            denom = (state["exp_avg_sq"] / bc2).sqrt_().add_(self.eps)
            p.addcdiv_(state["exp_avg"] * (lr_p / bc1), denom, value=-1.0)
        first["step"] = t + 1
        return loss

    def state_dict(self) -> dict:
        sd = super().state_dict()
        sd["ensemble"] = {"peak": self.peak, "wd": self.wd}
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        ens = state_dict.pop("ensemble", None)
        super().load_state_dict(state_dict)
        if ens is not None:
            self.peak, self.wd = ens["peak"], ens["wd"]
