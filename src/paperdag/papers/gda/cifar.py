"""CIFAR-10 from the binary tarball (`cifar-10-binary.tar.gz`), for the paper-scale experiment.

The archive is fetched by the `download` stage (URL + pinned sha256 in config.yaml, checked by
`paperdag.data.download`) and unpacked with `paperdag.data.safe_extract`. It holds
`cifar-10-batches-bin/data_batch_1.bin` … `data_batch_5.bin` (10,000 training images each) and
`test_batch.bin` (10,000). Each record is 3,073 bytes: the label (0–9), then the image
channel-major (R plane, G plane, B plane, each 32×32 row-major). The binary archive is used
rather than the python one because the python one is pickled, and the pipeline never unpickles.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDER = "cifar-10-batches-bin"
TRAIN_BATCHES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_BATCH = "test_batch.bin"
RECORD = 1 + 3 * 32 * 32
# per-channel mean / std of the CIFAR-10 training images (0–1 scale), as in the paper's code
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2471, 0.2435, 0.2616)


@dataclass(frozen=True)
class Cifar10:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise ValueError(f"{path}: {raw.size} bytes is not a whole number of {RECORD}-byte CIFAR-10 records")
    records = raw.reshape(-1, RECORD)
    x = np.ascontiguousarray(records[:, 1:]).reshape(-1, 3, 32, 32)
    y = records[:, 0].astype(np.int64)
    if y.max() > 9:
        raise ValueError(f"{path}: label {y.max()} outside 0–9")
    return x, y


def load_dir(root: str | Path) -> Cifar10:
    """Read an unpacked archive: `root/cifar-10-batches-bin/{data_batch_1..5, test_batch}.bin`."""
    folder = Path(root) / FOLDER
    parts = [_read_batch(folder / name) for name in TRAIN_BATCHES]
    x_test, y_test = _read_batch(folder / TEST_BATCH)
    return Cifar10(np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), x_test, y_test)


def load_archive(archive: str | Path, extract_to: str | Path) -> Cifar10:
    """Unpack the (already checksum-verified) tarball into `extract_to` (members checked) and read it."""
    from paperdag.data import safe_extract

    target = Path(extract_to)
    if not (target / FOLDER / TEST_BATCH).exists():
        safe_extract(archive, target)
    return load_dir(target)


def stratified_subset(y: np.ndarray, m: int, seed: int) -> np.ndarray:
    """Sorted indices of m/10 images per class (all of them when m = len(y) and classes are balanced)."""
    rng = np.random.default_rng(seed)
    k = m // 10
    return np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == c))[:k] for c in range(10)]))
