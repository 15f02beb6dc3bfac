"""The shared training loop: resume gives the uninterrupted result and counts its own steps; divergence is named."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from paperdag.nn import BatchedMLP
from paperdag.seeding import step_generator
from paperdag.training import DivergenceError, fit


class Regression(nn.Module):
    """Two seeds of a tiny MLP regressing sin(x); minibatches drawn per (seed, step)."""

    def __init__(self, blow_up_at: int | None = None, clamp: bool = False) -> None:
        super().__init__()
        self.seeds = [0, 1]
        self.net = BatchedMLP(self.seeds, [1, 16, 1])
        self.blow_up_at = blow_up_at
        if clamp:  # a projection after each optimiser step, as the ICNN baselines' convexify
            self.after_step = self._clamp_weights

    def _clamp_weights(self) -> None:
        with torch.no_grad():
            for p in self.net.parameters():
                p.clamp_(min=0.0)

    def training_loss(self, step: int) -> torch.Tensor:
        x = torch.stack([torch.randn(32, 1, generator=step_generator(s, step)) for s in self.seeds])
        loss = ((self.net(x) - torch.sin(3 * x)) ** 2).mean((1, 2))
        if self.blow_up_at is not None and step >= self.blow_up_at:
            loss = loss * torch.tensor([1.0, float("nan")])
        return loss

    def configure_optimizer(self):
        return torch.optim.Adam(self.parameters(), lr=1e-2)


@pytest.mark.parametrize("clamp", [False, True], ids=["plain", "projected-after-each-step"])
def test_resume_from_checkpoint_matches_uninterrupted(tmp_path, clamp):
    full = Regression(clamp=clamp)
    history = fit(full, steps=40, label="full", run_labels=["a", "b"])
    assert history.loop_steps == 40 and history.loop_seconds > 0
    part = Regression(clamp=clamp)
    fit(part, steps=20, label="part", run_labels=["a", "b"], checkpoint_dir=tmp_path, checkpoint_every=10)
    assert (tmp_path / "last.ckpt").exists()
    resumed = Regression(clamp=clamp)
    history = fit(resumed, steps=40, label="resumed", run_labels=["a", "b"], checkpoint_dir=tmp_path, checkpoint_every=10)
    assert history.loop_steps == 20  # the loop's throughput counts only the steps this process ran
    for p_full, p_res in zip(full.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(p_full, p_res, rtol=0, atol=0)


def test_non_finite_loss_names_run_and_step():
    with pytest.raises(DivergenceError, match=r"step 5 .*seed-b"):
        fit(Regression(blow_up_at=5), steps=10, label="paper method", run_labels=["seed-a", "seed-b"])
