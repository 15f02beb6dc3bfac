"""Train one ensemble of LMs (same width and batch size; own learning rate, L2, weight decay, seed).

Models that share a seed share their initial weights and their data stream, so the
learning-rate rules and regularisers they differ in are compared on paired runs.
Runs are compared at equal tokens: steps = tokens / (batch · context).

* one-pass regime: every step reads fresh sequences (Markov stream, or unread text / C4 windows);
* multi-epoch regime: a fixed training set (per seed for a Markov source) read for
  `epochs` epochs in a fresh order each epoch.

The one-pass train loss is the mean *pre-update* batch cross-entropy over the last
`train.loss_tail_frac` (10%) of steps (the protocol's definition); validation and test losses
are measured on fixed held-out sets (drawn with `eval_seed`) after training. Validation is
used for tuning, test for the claims. Every setting comes from the caller (config.yaml).
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from paperdag.papers.scaling_wisdom.model import (
    BatchedGPT,
    GPTConfig,
    lm_losses,
    matmul_peak_flops,
    n_params,
    train_flops_per_token,
)
from paperdag.papers.scaling_wisdom.optim import BatchedAdamW
from paperdag.papers.scaling_wisdom.sources import C4Source, MarkovSource, Source, TextSource
from paperdag.seeding import step_generator
from paperdag.training import fit

log = logging.getLogger(__name__)

VAL_STREAM, TEST_STREAM, TRAIN_SET_STREAM = 1, 2, 3


@dataclass(frozen=True)
class ModelSpec:
    """One member of an ensemble."""

    lr: float
    seed: int
    l2: float = 0.0  # coupled L2: (l2 / 2)·‖θ‖² added to the loss
    wd: float = 0.0  # decoupled weight decay (AdamW)


REG_SCOPES = ("linear", "all")


def _decayed(name: str, scope: str) -> bool:
    """Which tensors the coupled L2 and the decoupled weight decay act on (config `train.reg_scope`).

    `linear` (the protocol's "non-embedding weights", our reading): every linear map's matrix,
    i.e. each block's qkv, proj, fc and fc_out and the untied output head; not the token or
    position embeddings, not the LayerNorm gains. `all`: the previous recipe, matrices and both
    embeddings. LayerNorm gains are never regularised.
    """
    if scope not in REG_SCOPES:
        raise ValueError(f"train.reg_scope {scope!r} is not one of {REG_SCOPES}")
    return name.endswith("weight") or (scope == "all" and name.endswith("_emb"))


class LMTask(nn.Module):
    """The batched task `paperdag.training.fit` trains: one loss per model per step."""

    def __init__(self, source: Source, specs: Sequence[ModelSpec], gpt: GPTConfig, *, batch: int, steps: int,
                 train: dict[str, Any], train_sets: dict[int, torch.Tensor] | None = None) -> None:
        super().__init__()
        self.source, self.specs, self.gpt = source, list(specs), gpt
        self.batch, self.steps, self.train_cfg = batch, steps, train
        self.model = BatchedGPT([s.seed for s in specs], gpt)
        self.seeds = sorted({s.seed for s in specs})
        self.seed_index = torch.tensor([self.seeds.index(s.seed) for s in specs])
        self.train_sets = train_sets
        self.tail_start = int(math.floor((1.0 - train["loss_tail_frac"]) * steps))
        M = len(specs)
        self.register_buffer("l2", torch.tensor([s.l2 for s in specs]))
        self.register_buffer("tail_sum", torch.zeros(M))
        self.register_buffer("tail_count", torch.zeros(()))
        self.register_buffer("diverged_at", torch.full((M,), -1, dtype=torch.long))

    def _tokens(self, step: int) -> torch.Tensor:
        L = self.gpt.context + 1
        if self.train_sets is None:
            data = self.source.batch(self.seeds, step, self.batch, L)
        else:  # multi-epoch: a fresh permutation of the fixed set each epoch (drop the last partial batch)
            out = []
            for s in self.seeds:
                windows = self.train_sets[s]
                per_epoch = len(windows) // self.batch
                epoch, within = divmod(step, per_epoch)
                order = torch.randperm(len(windows), generator=step_generator(s, epoch, stream=5))
                out.append(windows[order[within * self.batch:(within + 1) * self.batch]])
            data = torch.stack(out)
        return data[self.seed_index].to(self.l2.device)  # drawn on the CPU: the same stream on any device

    def l2_penalty(self) -> torch.Tensor:
        """(λ_m / 2)·Σ θ_m² over the regularised tensors, per model m."""
        scope = self.train_cfg["reg_scope"]
        sq = sum(p.pow(2).reshape(p.shape[0], -1).sum(1) for n, p in self.model.named_parameters() if _decayed(n, scope))
        return 0.5 * self.l2 * sq

    def training_loss(self, step: int) -> torch.Tensor:
        tokens = self._tokens(step)
        ce, z2 = lm_losses(self.model(tokens[..., :-1]), tokens[..., 1:])
        if step >= self.tail_start:
            self.tail_sum += ce.detach()
            self.tail_count += 1
        loss = ce + self.train_cfg["z_loss"] * z2
        if bool((self.l2 > 0).any()):
            loss = loss + self.l2_penalty()
        bad = ~torch.isfinite(loss.detach())
        if bool(bad.any()):  # a diverged model is recorded and left out; its siblings keep training
            newly = bad & (self.diverged_at < 0)
            self.diverged_at[newly] = step
            loss = torch.where(bad, torch.zeros_like(loss), loss)
        return loss

    def configure_optimizer(self) -> torch.optim.Optimizer:
        named = list(self.model.named_parameters())
        cfg = self.train_cfg
        groups = [{"params": [p for n, p in named if _decayed(n, cfg["reg_scope"])], "decay": True},
                  {"params": [p for n, p in named if not _decayed(n, cfg["reg_scope"])], "decay": False}]
        return BatchedAdamW(groups, lr=[s.lr for s in self.specs], weight_decay=[s.wd for s in self.specs],
                            total_steps=self.steps, warmup_steps=int(round(cfg["warmup_frac"] * self.steps)),
                            final_frac=cfg["final_lr_frac"], betas=tuple(cfg["betas"]), eps=cfg["eps"], clip=cfg["clip"])


@torch.no_grad()
def evaluate(model: BatchedGPT, data: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Mean cross-entropy per model (nats/token) on sequences `data` (N, T+1) shared by all models."""
    model.eval()
    M, device = model.n_models, model.tok_emb.device
    total = torch.zeros(M, dtype=torch.float64)
    for i in range(0, len(data), chunk):
        x = data[i:i + chunk].to(device).unsqueeze(0).expand(M, -1, -1)
        ce, _ = lm_losses(model(x[..., :-1]), x[..., 1:])
        total += ce.double().cpu() * len(x[0])
    model.train()
    return total / len(data)


def eval_sets(source: Source, n_seqs: int, context: int, seed: int) -> dict[str, torch.Tensor]:
    """The validation and test sets (one fixed draw per source, shared by every run)."""
    return {name: source.fixed_set(seed, n_seqs, context + 1, stream)
            for name, stream in (("val", VAL_STREAM), ("test", TEST_STREAM))}


def multi_epoch_sets(source: Source, seeds: Sequence[int], tokens: int, context: int) -> dict[int, torch.Tensor]:
    """The fixed training set of each seed (Markov: its own draw; text and C4: the first `tokens` tokens)."""
    L = context + 1
    if isinstance(source, (TextSource, C4Source)):
        windows = source.train_windows(L, limit_tokens=tokens)
        return {s: windows for s in seeds}
    assert isinstance(source, MarkovSource)
    return {s: source.fixed_set(s, tokens // L, L, TRAIN_SET_STREAM) for s in seeds}


def run_ensemble(source: Source, specs: Sequence[ModelSpec], *, width: int, batch: int, tokens: int,
                 arch: dict[str, Any], train: dict[str, Any], n_eval_seqs: int, eval_seed: int, peak: dict[str, Any],
                 threads: int, label: str, regime: str = "one_pass", epochs: int = 1,
                 checkpoint_dir: Path | None = None, accelerator: str = "cpu") -> list[dict[str, Any]]:
    """Train the ensemble and return one metrics record per model (identity fields added by the caller),
    each with `settings`: what that model ran with, by value (written by `paperdag.runs.write_run`).

    On a GPU (`accelerator="gpu"`) data are still drawn on the CPU, so every device sees the
    same token stream; MFU is then measured against the GPU's own float32 matmul peak
    (`peak`: matmul size per device and measuring time; measured once per process).
    MFU and tokens/s are over the training loop's wall time (`train_loop_s`, PaLM's throughput
    convention); `ensemble_wall_s` also holds the set-up, the Lightning import included where this
    ensemble is the process's first.
    """
    gpt = GPTConfig(vocab=source.vocab, context=arch["context"], width=width, layers=arch["layers"],
                    head_dim=arch["head_dim"], init_std=arch["init_std"], residual_init_scaled=arch["residual_init_scaled"])
    train_sets = None
    if regime == "multi_epoch":
        train_sets = multi_epoch_sets(source, [s.seed for s in specs], tokens, gpt.context)
        per_epoch = len(next(iter(train_sets.values()))) // batch
        steps = epochs * per_epoch
    else:
        steps = math.ceil(tokens / (batch * gpt.context))
    torch.manual_seed(0)
    task = LMTask(source, specs, gpt, batch=batch, steps=steps, train=train, train_sets=train_sets)
    device = "cuda" if accelerator == "gpu" else "cpu"
    peak_flops = matmul_peak_flops(threads, size=peak["gpu_size" if device != "cpu" else "cpu_size"],
                                   seconds=peak["seconds"], device=device)
    t0 = time.perf_counter()
    history = fit(task, steps=steps, label=label,
                  run_labels=[f"lr={s.lr:.3g} seed={s.seed} l2={s.l2} wd={s.wd}" for s in specs],
                  checkpoint_dir=checkpoint_dir, checkpoint_every=train["checkpoint_every"],
                  log_every=max(1, steps // train["log_points"]), accelerator=accelerator)
    wall = time.perf_counter() - t0
    task.to(device)  # `fit` hands the task back on the CPU; evaluate where it trained
    trained_tokens = steps * batch * gpt.context
    # throughput and MFU over the training loop this process ran (steps resumed from a checkpoint are not
    # in it), without the one-time Lightning import and Trainer set-up that `wall` also holds
    loop_tokens_per_model = history.loop_steps * batch * gpt.context
    loop_flops = train_flops_per_token(gpt) * loop_tokens_per_model * len(specs)
    loop_s = history.loop_seconds if history.loop_steps else math.nan  # a run resumed at its end trained nothing here
    losses = {name: evaluate(task.model, data) for name, data in eval_sets(source, n_eval_seqs, gpt.context, eval_seed).items()}
    ent = source.entropies()
    P = n_params(gpt)
    train_loss = (task.tail_sum / task.tail_count.clamp(min=1)).tolist()
    records = []
    for i, spec in enumerate(specs):
        diverged = int(task.diverged_at[i]) >= 0 or not math.isfinite(float(losses["val"][i]))
        records.append({
            **asdict(spec), "vocab": source.vocab, "width": width, "batch": batch, "regime": regime, "epochs": epochs,
            "steps": steps,
            "tokens": trained_tokens, "unique_tokens": tokens if regime == "multi_epoch" else trained_tokens,
            "n_params": P, "tokens_per_param": trained_tokens / P, "train_flops": train_flops_per_token(gpt) * trained_tokens,
            "val_loss": float(losses["val"][i]), "test_loss": float(losses["test"][i]), "train_loss": float(train_loss[i]),
            "diverged": diverged, "entropy_rate": ent["entropy_rate"], "order1_entropy": ent["order1_entropy"],
            "test_excess": float(losses["test"][i]) - ent["entropy_rate"],
            "ensemble_size": len(specs), "ensemble_wall_s": wall, "train_loop_s": history.loop_seconds,
            "ensemble_tokens_per_s": loop_tokens_per_model * len(specs) / loop_s,
            "matmul_peak_gflops": peak_flops / 1e9, "mfu": loop_flops / loop_s / peak_flops,
            "threads": threads, "device": device,
            "curve": history.curve(i),  # logged pre-update batch losses (train_loss); no validation curve
            "settings": {**asdict(spec), "source": source.name, "vocab": source.vocab, "arch": dict(arch), "width": width,
                         "batch": batch, "regime": regime, "epochs": epochs, "tokens": tokens, "steps": steps,
                         "train": {k: v for k, v in train.items() if k not in ("batch", "tokens")},
                         "n_eval_seqs": n_eval_seqs, "eval_seed": eval_seed, "threads": threads, "device": device},
        })
    return records
