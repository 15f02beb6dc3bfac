"""One place for seeding and determinism.

The policy: deterministic algorithms wherever torch has them; where an operation has none (some
CUDA kernels), torch warns and the run goes on, rather than failing a paper-scale job. Training
hands Lightning the same policy (`DETERMINISTIC`), so the Trainer does not replace it with the
strict mode that raises.
"""
from __future__ import annotations

import os
import random

DETERMINISTIC = "warn"  # Lightning's name for use_deterministic_algorithms(True, warn_only=True)


def seed_everything(seed: int, threads: int | None = None) -> None:
    """Seed Python, NumPy and torch; make torch deterministic on CPU."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads:
        torch.set_num_threads(threads)


def step_generator(seed: int, step: int, stream: int = 0, device: str = "cpu"):
    """A torch.Generator that depends only on (seed, step, stream).

    Drawing each step's minibatch from it makes a run resumed from a checkpoint
    draw exactly what the uninterrupted run would have drawn.
    """
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed((seed * 1_000_003 + step * 7_919 + stream * 104_729) % (2**63 - 1))
    return gen
