"""The one training loop: Lightning around a batched task, with resume and divergence checks.

A *task* is an `nn.Module` that holds a whole batch of models (the seeds, and sibling
methods, of one setting) and returns one loss per model from `training_loss(step)`.
Minibatches must be drawn from `paperdag.seeding.step_generator(seed, step)`, so that a
run resumed from its last checkpoint continues exactly as the uninterrupted run would.
"""
from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import torch
from torch import nn

from paperdag.seeding import DETERMINISTIC

log = logging.getLogger(__name__)


class TrainingInterrupted(RuntimeError):
    """Training ended before its last step (e.g. SIGTERM); its results must not be written."""


class DivergenceError(RuntimeError):
    """A loss became NaN or infinite; the message names the runs and the step."""


class BatchedTask(Protocol):
    """What `fit` trains. A task may also define `after_step()`, called after each optimiser step,
    and `should_stop()`, asked after each step: True ends training early (e.g. every model has
    exhausted its early-stopping patience); `fit` then returns normally."""

    def training_loss(self, step: int) -> torch.Tensor: ...  # shape (n_models,)
    def configure_optimizer(self) -> torch.optim.Optimizer: ...


class AcceleratorError(RuntimeError):
    """Paper scale asked for a GPU that is not there."""


def choose_accelerator(want_gpu: bool, allow_cpu: bool, n_gpus: int = 1) -> str:
    """'gpu' when asked and present; 'cpu' when not asked, or when explicitly allowed.

    A GPU job first claims its own device(s) from the local slot pool
    (`paperdag.gpu.claim_gpus`, held until the process exits), so that two jobs on one
    machine never share a card; this must happen before CUDA is initialised.
    """
    if not want_gpu:
        return "cpu"
    from paperdag.gpu import claim_gpus, release_gpus, visible_devices

    if visible_devices():
        claim_gpus(n_gpus)
    if torch.cuda.is_available():
        return "gpu"
    release_gpus()
    if allow_cpu:
        log.warning("no GPU visible; running on CPU because allow_cpu is set")
        return "cpu"
    raise AcceleratorError("this job declares a GPU but none is visible; set allow_cpu: true in config.yaml to run on CPU")


def _lightning():
    """Lightning, imported on first use (it costs seconds); the first import's time is logged
    (`imported Lightning in … s`), for the import share in results/benchmarks/summary.md."""
    import sys

    first = "lightning" not in sys.modules
    start = time.perf_counter()
    import lightning as L

    if first:
        log.info("imported Lightning in %.1f s", time.perf_counter() - start)
    return L


class _StepIndex(torch.utils.data.Dataset):
    """A dataset of step numbers: the task samples its own minibatches."""

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int) -> int:
        return i


class History(list):
    """The logged (step, per-model training losses) of a run, and in `.validation` the logged
    (step, per-model validation metric) of a task that defines `validation_metric()`: the
    training curves a report draws and a convergence gate reads.

    `loop_seconds` and `loop_steps` are the wall time of Lightning's training loop and the optimiser
    steps it ran in this process (a resumed run counts only its own): a throughput measure that leaves
    out the one-time cost of importing Lightning and building the Trainer (None where not measured)."""

    def __init__(self, losses=(), validation=(), loop_seconds: float | None = None, loop_steps: int | None = None) -> None:
        super().__init__(losses)
        self.validation: list[tuple[int, list[float]]] = list(validation)
        self.loop_seconds, self.loop_steps = loop_seconds, loop_steps

    def curve(self, k: int) -> dict[str, list[float]]:
        """Model k's curves, as stored in its metrics.json (`paperdag.curves`)."""
        return {"step": [s for s, _ in self], "train_loss": [v[k] for _, v in self],
                "val_step": [s for s, _ in self.validation], "val": [v[k] for _, v in self.validation]}


LR_SHAPES = ("constant", "cosine", "linear")


def lr_factor(step: int, total: int, warmup: int = 0, final: float = 0.0, shape: str = "cosine") -> float:
    """Learning-rate multiplier at `step` (0-based) of `total`: a linear warm-up to 1 over `warmup` steps,
    then constant, or a cosine or linear decay from 1 to `final` at `total`."""
    if shape not in LR_SHAPES:
        raise ValueError(f"learning-rate schedule {shape!r}: known are {', '.join(LR_SHAPES)}")
    if step < warmup:
        return (step + 1) / warmup
    if shape == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    decay = 0.5 * (1.0 + math.cos(math.pi * progress)) if shape == "cosine" else 1.0 - progress
    return final + (1.0 - final) * decay


def cosine_schedule(optimizer: torch.optim.Optimizer, steps: int, floor: float = 0.0) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay of every group's learning rate from its peak to `floor` × peak over `steps`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps, final=floor))


def _make_module(task: nn.Module, label: str, run_labels: Sequence[str], log_every: int, steps: int):
    L = _lightning()
    validate = getattr(task, "validation_metric", None)

    class LitTask(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.task = task
            self.loss_history: list[tuple[int, list[float]]] = []
            self.val_history: list[tuple[int, list[float]]] = []
            self.stopped_early = False
            self.first_step = 0  # the step training (re)starts at: a resumed run's loop counts from there

        def on_train_start(self) -> None:
            self.first_step = int(self.global_step)

        def training_step(self, batch, batch_idx):
            step = int(self.global_step)
            losses = self.task.training_loss(step)
            finite = torch.isfinite(losses.detach())
            if not bool(finite.all()):
                bad = [f"{run_labels[i]} (loss {losses[i].item()})" for i in range(len(losses)) if not finite[i]]
                raise DivergenceError(f"{label}: loss became non-finite at step {step} for: {', '.join(bad)}")
            if step % log_every == 0 or step == steps - 1:
                values = [round(v, 6) for v in losses.detach().cpu().tolist()]
                self.loss_history.append((step, values))
                log.info("%s step %d losses %s", label, step, values)
                if validate is not None:
                    with torch.no_grad():
                        self.val_history.append((step, [round(float(v), 6) for v in validate()]))
            return losses.sum()

        def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None):
            super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
            after_step = getattr(self.task, "after_step", None)
            if after_step is not None:  # e.g. clamp ICNN weights: before any callback saves a checkpoint
                after_step()

        def on_train_batch_end(self, outputs, batch, batch_idx):
            should_stop = getattr(self.task, "should_stop", None)
            if should_stop is not None and should_stop():  # early stopping decided by the task
                self.stopped_early = True
                self.trainer.should_stop = True

        def configure_optimizers(self):
            """The task's optimizer, or (optimizer, scheduler) stepped once per optimiser step."""
            out = self.task.configure_optimizer()
            if isinstance(out, tuple):
                optimizer, scheduler = out
                return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
            return out

        def on_save_checkpoint(self, checkpoint):  # a resumed run reports the whole history
            checkpoint["paperdag_loss_history"] = [[s, list(v)] for s, v in self.loss_history]
            checkpoint["paperdag_val_history"] = [[s, list(v)] for s, v in self.val_history]

        def on_load_checkpoint(self, checkpoint):
            self.loss_history = [(int(s), list(v)) for s, v in checkpoint.get("paperdag_loss_history", [])]
            self.val_history = [(int(s), list(v)) for s, v in checkpoint.get("paperdag_val_history", [])]

    return LitTask()


def _checkpoint_callback(ckpt_path: Path, every: int):
    L = _lightning()

    class AtomicLastCheckpoint(L.Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if trainer.global_step % every == 0:
                tmp = ckpt_path.with_suffix(".tmp")
                trainer.save_checkpoint(tmp, weights_only=False)  # optimiser and loop state too, for resuming
                os.replace(tmp, ckpt_path)

    return AtomicLastCheckpoint()


def fit(
    task: nn.Module,
    *,
    steps: int,
    label: str,
    run_labels: Sequence[str],
    checkpoint_dir: Path | None = None,
    checkpoint_every: int = 250,
    accelerator: str = "cpu",
    log_every: int = 100,
) -> History:
    """Train `task` for `steps` optimiser steps; resume from `checkpoint_dir/last.ckpt` if present.

    Returns the logged history (losses every `log_every` steps and at the last step; the
    validation metric too where the task defines one), whole even after a resume. A task with
    `should_stop()` may end training before `steps` (early stopping).
    """
    L = _lightning()
    module = _make_module(task, label, run_labels, log_every, steps)
    callbacks = []
    resume = None
    if checkpoint_dir is not None:
        checkpoint_dir = Path(checkpoint_dir)
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        ckpt = checkpoint_dir / "last.ckpt"
        callbacks.append(_checkpoint_callback(ckpt, checkpoint_every))
        if ckpt.exists():
            resume = str(ckpt)
            log.info("%s: resuming from %s", label, ckpt)
    plugins = []
    if "SLURM_JOB_ID" in os.environ:
        from lightning.pytorch.plugins.environments import SLURMEnvironment

        plugins.append(SLURMEnvironment(auto_requeue=False))  # Snakemake owns retries
    trainer = L.Trainer(
        max_steps=steps, max_epochs=-1, accelerator=accelerator, devices=1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        num_sanity_val_steps=0, deterministic=DETERMINISTIC, callbacks=callbacks, plugins=plugins or None,
    )
    loader = torch.utils.data.DataLoader(_StepIndex(steps), batch_size=None, shuffle=False)
    started = time.perf_counter()
    trainer.fit(module, loader, ckpt_path=resume, weights_only=True) if resume else trainer.fit(module, loader)
    loop_seconds = time.perf_counter() - started
    if trainer.global_step < steps and not module.stopped_early:  # Lightning returns normally after SIGTERM
        raise TrainingInterrupted(f"{label}: training stopped at step {trainer.global_step} of {steps}")
    task.to("cpu")
    return History(module.loss_history, module.val_history, loop_seconds, trainer.global_step - module.first_step)
