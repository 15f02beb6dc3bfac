"""One training job: every (method, β, seed) run of one dataset as a single batched task.

Losses (y standardised, MSE-based baselines as in the protocol §2.10):
- `mse`: ‖y − ŷ‖².
- `vib`: MSE + β·KL(N(μ, σ²) ‖ N(0, I)), t = μ + σ ε sampled in training (σ² = e^{enc_logvar}).
- `nib`: MSE + β·h(Î_XT), t = μ + N(0, e^{logvar_t}) in training, h ∈ {identity, squared, exp}.
- `hsic`: MSE + β·nHSIC(x, t) − λ_y·nHSIC(y, t) (HSIC bottleneck / HBaR).
- `cs_ib`: CS_Div(x, y, ŷ) + β·CS_QMI_normalized(x, t), t deterministic (official code).

Minibatches: each seed reshuffles the training set every pass over it (a permutation drawn from
`step_generator(seed, pass)`), and all methods with the same seed see the same batches, so
runs with one seed differ only by their loss.

Training length is counted in optimiser steps, not epochs, so that it does not depend on the
dataset's size by accident: every `eval_every` steps the task evaluates validation and test
RMSE and keeps, per model, the weights of its best-validation evaluation (buffers, so a resumed
job continues exactly). A model stops (its best weights and curve are frozen) once its best
validation RMSE is older than both `patience` steps and `patience_fraction` of its training so
far (with a fraction ≥ 0.2, a stopped model has not improved over its last fifth: the
convergence gate's condition; our choice); the job ends when every model has stopped, or at
`max_steps` (a model still improving there fails the convergence gate of the claims). The
official code's test-selected "best RMSE over epochs" is tracked too (over the evaluations
before the model stopped), and reported in its own clearly named column.

Compaction (cost only): once the models still training are at most `compact_below` of the task's
models (checked just before an evaluation step), `should_stop` ends this `fit` and the job goes on
with `compacted(live)`: a task of only those models (their weights, best weights, curves and Adam
state copied row by row), starting at `step_offset`; `absorb` copies its rows back into the full
task at the end. Every model sees the same minibatches, noise and updates as without compaction;
stopped models stop costing optimiser and gradient-scatter work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from paperdag.papers.cs_ib.baselines import centred_gram, hsic_from_grams, nib_h, nib_kde_mi, vib_kl
from paperdag.papers.cs_ib.data import Split
from paperdag.papers.cs_ib.estimators import cs_divergence, cs_qmi, gaussian_gram, qmi_from_grams, weighted_x_gram
from paperdag.papers.cs_ib.model import BottleneckNet
from paperdag.seeding import step_generator

KINDS = ("mse", "vib", "nib", "hsic", "cs_ib")


@dataclass(frozen=True)
class RunSpec:
    """One run inside a batched job."""

    method: str  # config key, e.g. "nib_exp"
    kind: str  # one of KINDS
    beta: float
    seed: int
    options: tuple = field(default_factory=tuple)  # sorted (key, value) pairs: h, eta, lambda_y, sigma, logvar_t

    def opt(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)


def _linear_subset(layer: nn.Module, h: torch.Tensor, gi: torch.Tensor | None) -> torch.Tensor:
    """Apply only the models `gi` of a `BatchedLinear` to h (len(gi), N, d_in); `gi=None`: every model
    (no gathered copy of the weights, and no scatter of their gradients)."""
    w, b = (layer.weight, layer.bias) if gi is None else (layer.weight[gi], layer.bias[gi])
    if w.shape[-1] == 1:  # one output (the decoder's last layer): a product and a sum, not a degenerate, slower matmul
        return (h * w.transpose(-1, -2)).sum(-1, keepdim=True) + b
    return torch.baddbmm(b, h, w)


def _mlp_subset(mlp: nn.Module, h: torch.Tensor, gi: torch.Tensor | None) -> torch.Tensor:
    """A batched MLP's layers (`.layers`, `.activation` between them) with only the weights of models `gi`."""
    for j, layer in enumerate(mlp.layers):
        h = _linear_subset(layer, h, gi)
        if j < len(mlp.layers) - 1:
            h = mlp.activation(h)
    return h


class IBRegressionTask(nn.Module):
    """All runs of one dataset; `training_loss(step)` returns one loss per run (model)."""

    def __init__(
        self,
        split: Split,
        runs: Sequence[RunSpec],
        *,
        max_steps: int,
        eval_every: int,
        patience: int,
        batch: int,
        lr: float,
        patience_fraction: float = 0.0,
        sigma: float | str,
        row_weight: str,
        median_scale: float,
        k: int = 128,
        hidden: int = 128,
        backbone: str = "mlp",
        compact_below: float = 0.0,
        step_offset: int = 0,
    ) -> None:
        super().__init__()
        self._split = split
        self._kwargs = dict(
            max_steps=max_steps, eval_every=eval_every, patience=patience, batch=batch, lr=lr,
            patience_fraction=patience_fraction, sigma=sigma, row_weight=row_weight, median_scale=median_scale,
            k=k, hidden=hidden, backbone=backbone, compact_below=compact_below,
        )  # fmt: skip
        self.compact_below = compact_below if backbone == "mlp" else 0.0  # grouped-conv rows are not compacted
        self.step_offset = step_offset
        self._adam_state: list[dict] | None = None
        self.runs = list(runs)
        self.max_steps, self.eval_every, self.patience = max_steps, eval_every, patience
        self.patience_fraction = patience_fraction
        self.batch, self.lr = batch, lr
        self.sigma, self.row_weight, self.median_scale = sigma, row_weight, median_scale
        self.y_std = split.y_std
        self.net = BottleneckNet(
            [r.seed for r in runs], split.x_train.shape[1], k=k, hidden=hidden, backbone=backbone, image_shape=split.image_shape
        )
        for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
            self.register_buffer(name, torch.as_tensor(getattr(split, name)), persistent=False)
        self.n_train = len(split.y_train)
        self.steps_per_epoch = math.ceil(self.n_train / batch)
        seeds = sorted({r.seed for r in runs})
        self.seeds = seeds
        self.register_buffer("seed_index", torch.tensor([seeds.index(r.seed) for r in runs]), persistent=False)
        self.groups = self._groups()
        m = len(runs)
        n_evals = max_steps // eval_every + 2  # at steps 0, eval_every, …, and after the last update
        self.register_buffer("best_val", torch.full((m,), math.inf))
        self.register_buffer("best_step", torch.zeros(m, dtype=torch.long))
        self.register_buffer("stopped", torch.zeros(m, dtype=torch.bool))
        self.register_buffer("stop_step", torch.full((m,), -1, dtype=torch.long))
        self.register_buffer("best_test_over_evals", torch.full((m,), math.inf))
        self.register_buffer("n_evaluated", torch.zeros((), dtype=torch.long))
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
        self.register_buffer("eval_steps", torch.full((n_evals,), -1, dtype=torch.long))
        self.register_buffer("val_curve", torch.full((n_evals, m), math.nan))
        self.register_buffer("test_curve", torch.full((n_evals, m), math.nan))
        for name, p in self.net.named_parameters():
            self.register_buffer("best__" + name.replace(".", "__"), p.detach().clone())

    # ------------------------------------------------------------------ setup
    def _groups(self) -> list[tuple[str, tuple, torch.Tensor, torch.Tensor]]:
        """(kind, options, model indices, betas) for each distinct loss."""
        keyed: dict[tuple[str, tuple], list[int]] = {}
        for i, r in enumerate(self.runs):
            if r.kind not in KINDS:
                raise ValueError(f"unknown method kind {r.kind!r} for {r.method}")
            keyed.setdefault((r.kind, r.options), []).append(i)
        return [
            (kind, opts, torch.tensor(idx), torch.tensor([self.runs[i].beta for i in idx], dtype=torch.float32))
            for (kind, opts), idx in keyed.items()
        ]

    def configure_optimizer(self) -> torch.optim.Optimizer:
        """Adam with its fused kernel (CPU too): one pass per tensor, about 5× cheaper per step than
        the per-tensor loop at these sizes; the same update up to float rounding (not bitwise)."""
        opt = torch.optim.Adam(self.net.parameters(), lr=self.lr, fused=True)
        if self._adam_state is not None:  # a compacted task goes on with its models' Adam state
            for p, state in zip(self.net.parameters(), self._adam_state):
                opt.state[p] = state
        self._optimizer = opt
        return opt

    # ------------------------------------------------------------------ training
    def _batch_indices(self, step: int) -> torch.Tensor:
        """(n_seeds, B) training indices: slice `step` of this epoch's permutation, per seed."""
        epoch, within = divmod(step, self.steps_per_epoch)
        if getattr(self, "_perm_epoch", None) != epoch:  # each epoch's permutations are drawn once, not every step
            gens = [step_generator(s, epoch, stream=1) for s in self.seeds]
            self._perms = torch.stack([torch.randperm(self.n_train, generator=g) for g in gens]).to(self.x_train.device)
            self._perm_epoch = epoch
        return self._perms[:, within * self.batch : (within + 1) * self.batch]

    def _noise(self, shape: torch.Size, step: int) -> torch.Tensor:
        gens = [step_generator(s, step, stream=2) for s in self.seeds]
        eps = torch.stack([torch.randn(shape[1:], generator=g) for g in gens]).to(self.x_train.device)
        return eps[self.seed_index]

    def training_loss(self, step: int) -> torch.Tensor:
        """One loss per model; models that have stopped get a constant 0 and are not computed
        (their best weights and curves are frozen), so a job costs the sum of its runs' lengths.
        `step` counts from this task's start; `step_offset` makes it the job's step."""
        step += self.step_offset
        if step % self.eval_every == 0:
            self.evaluate(step)
        self.steps_done.fill_(step + 1)
        per_seed = self._batch_indices(step)  # (S, B)
        idx = per_seed[self.seed_index]  # (M, B)
        x, y = self.x_train[idx], self.y_train[idx]
        # x (and y) kernels: one per seed, shared by its models
        self._x_seed, self._y_seed, self._grams = self.x_train[per_seed], self.y_train[per_seed], {}
        live, plan = self._plan()
        if not len(live):  # every model stopped at this step's evaluation: a no-op step, then `fit` ends
            return torch.zeros(len(self.runs), device=x.device) + 0.0 * self.net.enc_mean.bias.sum()
        sub = None if len(live) == len(self.runs) else live  # None: every model trains, nothing to gather
        if self.net.backbone_kind == "mlp":  # only the live models' encoders
            h = _mlp_subset(self.net.encoder, x if sub is None else x[live], sub)
        else:
            h = self.net.encoder(self.net.features(x))[live]
        mean = _linear_subset(self.net.enc_mean, h, sub)
        noisy = any(kind in ("vib", "nib") for kind, *_ in plan)
        eps = self._noise(x.shape[:2] + (mean.shape[-1],), step) if noisy else None  # drawn only while a stochastic model trains
        # t of every live model (sampled for VIB and NIB), then one decoder pass for all of them
        t_live, parts = mean, []
        for kind, opts, gi, beta, rows in plan:
            std = None
            if kind == "vib":  # the variance head is evaluated only for the VIB models (unused by the others)
                std = torch.exp(0.5 * _linear_subset(self.net.enc_logvar, h[rows], gi))
                t_live = t_live.index_copy(0, rows, mean[rows] + std * eps[gi])
            elif kind == "nib":
                t_live = t_live.index_copy(0, rows, mean[rows] + math.exp(0.5 * opts.get("logvar_t", -1.0)) * eps[gi])
            parts.append((kind, opts, gi, beta, rows, std))
        y_hat_live = self._decode_subset(t_live, sub)
        losses = torch.zeros(len(self.runs), device=x.device)
        for kind, opts, gi, beta, rows, std in parts:
            loss = self._loss(kind, opts, beta, x[gi], y[gi], mean[rows], std, t_live[rows], y_hat_live[rows], gi)
            losses = losses.index_copy(0, gi, loss)
        return losses

    def _plan(self) -> tuple[torch.Tensor, list[tuple[str, dict, torch.Tensor, torch.Tensor, torch.Tensor]]]:
        """(live model indices, per loss group with live models: (kind, options, its live model indices,
        their β, their rows of the live tensors)). It changes only when models stop
        (at an evaluation), so it is kept until the set of stopped models changes (cost only)."""
        key = self.stopped.cpu().numpy().tobytes()
        if getattr(self, "_plan_key", None) != key:
            live = (~self.stopped).nonzero().squeeze(-1)
            pos = torch.full((len(self.runs),), -1, dtype=torch.long, device=live.device)
            pos[live] = torch.arange(len(live), device=live.device)
            plan = []
            for kind, opts_t, gi, beta in self.groups:
                gi, beta = gi.to(live.device), beta.to(live.device)
                keep = ~self.stopped[gi]
                if bool(keep.any()):
                    plan.append((kind, dict(opts_t), gi[keep], beta[keep], pos[gi[keep]]))
            self._plan_key, self._plan_value = key, (live, plan)
        return self._plan_value

    def _shared(self, kind: str, sigma: float) -> dict[str, torch.Tensor]:
        """Per seed (first axis), the loss terms that depend only on the seed's minibatch (x, y), not on
        the model: computed once per step and shared by that seed's models (they carry no gradient).
        CS: k(x,x), the row-weighted w·k(x,x), the y-only term of the divergence, I(x;x). HSIC: the
        centred grams of x and y and their squared norms."""
        key = (kind, sigma)
        if key not in self._grams:
            xs, ys = self._x_seed, self._y_seed.unsqueeze(-1)
            if kind == "cs_ib":
                k = gaussian_gram(xs, xs, sigma)
                wk = weighted_x_gram(k, self.row_weight)
                y_term = torch.log((wk * gaussian_gram(ys, ys, sigma)).sum((-1, -2))) / math.log(2.0)
                self._grams[key] = {"kx": k, "wkx": wk, "y_term": y_term, "i_xx": qmi_from_grams(k, k)}
            else:
                kx, ky = centred_gram(xs, sigma), centred_gram(ys, sigma)
                self._grams[key] = {"kx": kx, "ky": ky, "aa_x": (kx * kx).sum((-1, -2)), "aa_y": (ky * ky).sum((-1, -2))}
        return self._grams[key]

    def _loss(
        self,
        kind: str,
        opts: dict[str, Any],
        beta: torch.Tensor,
        x: torch.Tensor,
        y: torch.Tensor,
        mean: torch.Tensor,
        std: torch.Tensor | None,
        t: torch.Tensor,
        y_hat: torch.Tensor,
        gi: torch.Tensor,
    ) -> torch.Tensor:
        """Models `gi`'s losses from their bottleneck mean, VIB σ, bottleneck t and prediction ŷ."""
        mse = ((y_hat - y) ** 2).mean(-1)
        if kind == "mse":
            return mse
        if kind == "vib":
            return mse + beta * vib_kl(mean, std)
        if kind == "nib":
            i_xt = nib_kde_mi(mean, opts.get("logvar_t", -1.0))
            return mse + beta * nib_h(i_xt, opts.get("h", "identity"), opts.get("eta", 1.0))
        if kind == "hsic":  # t's centred gram is computed once for both terms; the x and y ones once per seed
            s = opts.get("sigma", 1.0)
            sh, seeds = self._shared("hsic", s), self.seed_index[gi]
            kt = centred_gram(t, s)
            bb = (kt * kt).sum((-1, -2))
            i_xt = hsic_from_grams(sh["kx"][seeds], kt, sh["aa_x"][seeds], bb)
            return mse + beta * i_xt - opts.get("lambda_y", 0.0) * hsic_from_grams(sh["ky"][seeds], kt, sh["aa_y"][seeds], bb)
        # cs_ib
        est = dict(sigma=self.sigma, median_scale=self.median_scale)
        if self.sigma == "median":  # σ per model: the estimators compute every kernel themselves
            div = cs_divergence(x, y, y_hat, row_weight=self.row_weight, **est)
            shared, seeds = None, None
        else:
            shared, seeds = self._shared("cs_ib", self.sigma), self.seed_index[gi]
            div = cs_divergence(x, y, y_hat, wkx=shared["wkx"][seeds], y_term=shared["y_term"][seeds], **est)
        nz = (beta != 0).nonzero().squeeze(-1)  # β = 0 (cs_div): the compression term is not computed
        if not len(nz):
            return div
        kx = None if shared is None else shared["kx"][seeds[nz]]
        i_xx = None if shared is None else shared["i_xx"][seeds[nz]]
        qmi = cs_qmi(x[nz], t[nz], normalized=True, kx=kx, i_xx=i_xx, **est)
        return div.index_add(0, nz, beta[nz] * qmi)

    def _decode_subset(self, t: torch.Tensor, gi: torch.Tensor | None) -> torch.Tensor:
        """Decode with only the decoder weights of models `gi`."""
        return _mlp_subset(self.net.decoder, t, gi).squeeze(-1)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def predict(self, x: torch.Tensor, chunk: int = 2048, models: torch.Tensor | None = None) -> torch.Tensor:
        """ŷ (standardised units) on x (N, D), deterministic t: (M, N) for every model, or
        (len(models), N) for the models `models` only (the MLP backbone computes just those)."""
        subset = models is not None and self.net.backbone_kind == "mlp"
        n_rows = len(models) if subset else len(self.runs)
        outs = []
        for i in range(0, len(x), chunk):
            xb = x[i : i + chunk].unsqueeze(0).expand(n_rows, -1, -1)
            if subset:
                h = _mlp_subset(self.net.encoder, xb, models)
                outs.append(self._decode_subset(_linear_subset(self.net.enc_mean, h, models), models))
            else:
                outs.append(self.net(xb)[1])
        out = torch.cat(outs, dim=1)
        return out[models] if models is not None and not subset else out

    def should_stop(self) -> bool:
        """Every model has exhausted its patience, or it is time to compact (asked by `fit` after each step)."""
        return bool(self.stopped.all()) or self.wants_compaction()

    def wants_compaction(self) -> bool:
        """The next step evaluates, and at most `compact_below` of this task's models still train."""
        live = int((~self.stopped).sum())
        due = int(self.steps_done) % self.eval_every == 0 and int(self.steps_done) < self.max_steps
        return due and 0 < live <= self.compact_below * len(self.runs) and live < len(self.runs)

    _ROW_BUFFERS = ("best_val", "best_step", "stopped", "stop_step", "best_test_over_evals")
    _COL_BUFFERS = ("val_curve", "test_curve")
    _SHARED_BUFFERS = ("n_evaluated", "steps_done", "eval_steps")

    @torch.no_grad()
    def compacted(self, keep: torch.Tensor) -> IBRegressionTask:
        """A task of models `keep` only, in the state this one is in (weights, best weights, curves,
        Adam state), continuing at step `steps_done`."""
        runs = [self.runs[i] for i in keep.tolist()]
        current = {k: getattr(self, k) for k in self._kwargs if k in self.__dict__}  # settings changed since __init__
        sub = IBRegressionTask(self._split, runs, **{**self._kwargs, **current}, step_offset=int(self.steps_done))
        sub.to(self.best_val.device)
        mine = dict(self.named_parameters())
        for name, p in sub.named_parameters():
            p.copy_(mine[name][keep])
        for name, buf in sub.named_buffers():
            if name.startswith("best__") or name in self._ROW_BUFFERS:
                buf.copy_(getattr(self, name)[keep])
            elif name in self._COL_BUFFERS:
                buf.copy_(getattr(self, name)[:, keep])
            elif name in self._SHARED_BUFFERS:
                buf.copy_(getattr(self, name))
        opt = getattr(self, "_optimizer", None)
        if opt is not None:
            sub._adam_state = [
                {k: (v[keep].clone() if v.dim() and v.shape[0] == len(self.runs) else v.clone()) for k, v in opt.state[p].items()}
                for p in self.net.parameters()
            ]
        return sub

    @torch.no_grad()
    def absorb(self, sub: IBRegressionTask, keep: torch.Tensor) -> None:
        """Copy the state of `sub` (this task's models `keep`, see `compacted`) back into this task."""
        subs = dict(sub.named_parameters())
        for name, p in self.named_parameters():
            p[keep] = subs[name]
        for name, buf in self.named_buffers():
            if name.startswith("best__") or name in self._ROW_BUFFERS:
                buf[keep] = getattr(sub, name)
            elif name in self._COL_BUFFERS:
                buf[:, keep] = getattr(sub, name)
            elif name in self._SHARED_BUFFERS:
                buf.copy_(getattr(sub, name))

    def errors(self, x: torch.Tensor, y: torch.Tensor, models: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(RMSE, MAE) per model (or per model of `models`), in target units (standardisation undone)."""
        diff = (self.predict(x, models=models) - y) * self.y_std
        return diff.pow(2).mean(-1).sqrt(), diff.abs().mean(-1)

    @torch.no_grad()
    def evaluate(self, step: int) -> None:
        """At `step` (weights after `step` updates): record val/test RMSE of the models still
        training, keep their best-validation weights, and stop those whose best is older than both
        `patience` steps and `patience_fraction` of the steps so far."""
        e = int(self.n_evaluated)
        if e >= len(self.eval_steps) or (e and int(self.eval_steps[e - 1]) >= step):
            return  # already evaluated here (a resumed job, or the last step)
        live = ~self.stopped
        idx = live.nonzero().squeeze(-1)  # only the models still training are evaluated
        val = torch.full((len(self.runs),), math.nan, device=live.device)
        test = val.clone()
        val[idx], test[idx] = self.errors(self.x_val, self.y_val, idx)[0], self.errors(self.x_test, self.y_test, idx)[0]
        self.eval_steps[e] = step
        self.val_curve[e], self.test_curve[e] = val, test
        better = live & (val < self.best_val)
        self.best_val.copy_(torch.where(better, val, self.best_val))
        self.best_step.copy_(torch.where(better, torch.full_like(self.best_step, step), self.best_step))
        self.best_test_over_evals.copy_(
            torch.where(live, torch.minimum(self.best_test_over_evals, test), self.best_test_over_evals)
        )
        for name, p in self.net.named_parameters():
            buf = getattr(self, "best__" + name.replace(".", "__"))
            mask = self._model_mask(better, p)
            buf.copy_(torch.where(mask, p.detach(), buf))
        newly = live & (step - self.best_step >= max(self.patience, self.patience_fraction * step))
        self.stop_step.copy_(torch.where(newly, torch.full_like(self.stop_step, step), self.stop_step))
        self.stopped |= newly
        self.n_evaluated.fill_(e + 1)

    def finish(self) -> None:
        """After training: evaluate the weights after the last update, then record where models stopped."""
        last_step = int(self.steps_done)
        self.evaluate(last_step)
        self.stop_step.copy_(torch.where(self.stopped, self.stop_step, torch.full_like(self.stop_step, last_step)))

    def curve(self, i: int) -> tuple[list[int], list[float], list[float]]:
        """Model i's (steps, validation RMSE, test RMSE) up to where it stopped."""
        n = int(self.n_evaluated)
        steps = self.eval_steps[:n].tolist()
        keep = [j for j, s in enumerate(steps) if s <= int(self.stop_step[i]) or int(self.stop_step[i]) < 0]
        return (
            [steps[j] for j in keep],
            [float(self.val_curve[j, i]) for j in keep],
            [float(self.test_curve[j, i]) for j in keep],
        )

    def _model_mask(self, better: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Broadcast a per-model mask onto a parameter (model axis first, or grouped-conv channels)."""
        m = len(self.runs)
        if p.shape[0] == m:
            return better.view(m, *([1] * (p.dim() - 1)))
        per = p.shape[0] // m  # grouped conv: M·out channels
        return better.repeat_interleave(per).view(-1, *([1] * (p.dim() - 1)))

    @torch.no_grad()
    def restore_best(self) -> None:
        for name, p in self.net.named_parameters():
            p.copy_(getattr(self, "best__" + name.replace(".", "__")))

    def fgsm_rmse(self, eps_grid: Sequence[float], x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
        """Test RMSE (target units) under FGSM on the MSE loss, per ε: (len(eps), M).

        The loss is a sum of per-sample terms, so one gradient of the summed loss gives every
        sample's own FGSM direction, as the official batch-1 attack does.
        """
        m = len(self.runs)
        xb = x.unsqueeze(0).expand(m, -1, -1).clone().requires_grad_(True)
        with torch.enable_grad():
            loss = ((self.net(xb)[1] - y) ** 2).sum()
            (grad,) = torch.autograd.grad(loss, xb)
        out = []
        with torch.no_grad():
            for e in eps_grid:
                pred = self.net(xb.detach() + e * grad.sign())[1]
                out.append(((pred - y) * self.y_std).pow(2).mean(-1).sqrt())
        return torch.stack(out).cpu().numpy()

    @torch.no_grad()
    def information_plane(self, x: torch.Tensor, y: torch.Tensor, var_y: float) -> tuple[np.ndarray, np.ndarray]:
        """(normalised I_CS(X;T), I(Y;T) = ½ log₂(Var Y / MSE)) per model, averaged over batches of `batch`."""
        ixt, iyt, _n = [], [], 0
        for i in range(0, len(x), self.batch):
            xb = x[i : i + self.batch].unsqueeze(0).expand(len(self.runs), -1, -1)
            if xb.shape[1] < 2:
                continue
            t, y_hat = self.net(xb)
            ixt.append(cs_qmi(xb, t, self.sigma, normalized=True, median_scale=self.median_scale))
            mse = ((y_hat - y[i : i + self.batch]) ** 2).mean(-1)
            iyt.append(0.5 * torch.log2(var_y / mse))
        return torch.stack(ixt).mean(0).cpu().numpy(), torch.stack(iyt).mean(0).cpu().numpy()
