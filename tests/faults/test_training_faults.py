"""The training loop under faults: a crash mid-run resumes to the uninterrupted result,
including everything the run reports (the logged loss history), not just the weights."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.seeding import step_generator
from paperdag.training import DivergenceError, fit


class Crash(RuntimeError):
    """Stands in for a process killed mid-run."""


class Regression(nn.Module):
    """Two seeds of a tiny MLP regressing sin(x); can crash or blow up at a given step."""

    def __init__(self, crash_at: int | None = None, inf_at: int | None = None) -> None:
        super().__init__()
        self.seeds = [0, 1]
        self.net = BatchedMLP(self.seeds, [1, 8, 1])
        self.crash_at, self.inf_at = crash_at, inf_at

    def training_loss(self, step: int) -> torch.Tensor:
        if step == self.crash_at:
            raise Crash(f"killed at step {step}")
        x = torch.stack([torch.randn(16, 1, generator=step_generator(s, step)) for s in self.seeds])
        loss = ((self.net(x) - torch.sin(3 * x)) ** 2).mean((1, 2))
        if step == self.inf_at:
            loss = loss * torch.tensor([float("inf"), 1.0])
        return loss

    def configure_optimizer(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


def test_crash_then_resume_reports_the_uninterrupted_history(tmp_path):
    kw = dict(steps=230, label="t", run_labels=["a", "b"], checkpoint_every=20, log_every=100)
    full = Regression()
    full_history = fit(full, **kw)
    assert [s for s, _ in full_history] == [0, 100, 200, 229]  # every log_every steps and the last
    with pytest.raises(Crash):  # dies between the checkpoint at 120 and the one at 140
        fit(Regression(crash_at=131), checkpoint_dir=tmp_path, **kw)
    resumed = Regression()
    assert fit(resumed, checkpoint_dir=tmp_path, **kw) == full_history
    for a, b in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_divergence_names_run_and_step_and_keeps_last_checkpoint(tmp_path):
    with pytest.raises(DivergenceError, match=r"paper method: .*step 25 .*seed-a \(loss inf\)"):
        fit(Regression(inf_at=25), steps=40, label="paper method", run_labels=["seed-a", "seed-b"],
            checkpoint_dir=tmp_path, checkpoint_every=10)
    ckpt = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert ckpt["global_step"] == 20  # the last finite state, never one written after the blow-up
