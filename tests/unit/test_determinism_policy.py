"""One determinism policy: the Trainer keeps the project's warn-only deterministic mode, and a
checkpoint written for resuming loads with torch's safe loader (weights_only=True)."""

from __future__ import annotations

import torch

from paperdag.seeding import DETERMINISTIC, seed_everything
from paperdag.training import fit


class _Tiny(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(2))

    def training_loss(self, step: int) -> torch.Tensor:
        return (self.w**2).sum().reshape(1)

    def configure_optimizer(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def test_training_keeps_the_warn_only_policy_and_checkpoints_load_safely(tmp_path):
    assert DETERMINISTIC == "warn"
    seed_everything(0)
    fit(_Tiny(), steps=4, label="tiny", run_labels=["tiny"], checkpoint_dir=tmp_path, checkpoint_every=2, log_every=1)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()  # Lightning did not switch to the strict mode
    checkpoint = torch.load(tmp_path / "last.ckpt", weights_only=True)  # raises if it held arbitrary objects
    assert checkpoint["global_step"] >= 2 and "optimizer_states" in checkpoint
