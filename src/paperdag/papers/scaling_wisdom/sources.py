"""Token sources: order-2 Markov chains with exact entropies, and a bundled real-text control.

* `hier` (learnable): the `k` likely successors of a context (a, b) are drawn from a
  `group`-symbol set fixed by b, so a model can share what it learns about b across the
  contexts (a, b). This is the source the claims are evaluated on.
* `flat` (stress case): each of the V² contexts has its own `k` successors drawn from all V
  symbols. At ~2·10⁵ tokens small models do not get past bigram statistics on it.
* `text` (control, stand-in for C4): character-level CPython documentation
  (`pydoc_data.topics`, shipped with the interpreter) or any plain/gzipped text file such as
  the Jargon File; no network. One-pass runs read each training window at most once.
* `c4` (paper scale): C4 (en) tokenised with the T5 SentencePiece vocabulary by the
  `tokenize` stage (`c4.py`) into flat uint16 token files; read here through `np.memmap`.
  Real text has no known entropy rate, so the learnability gate does not apply to it.

Every Markov transition puts `leak`/V on every symbol, so the chain is ergodic and its
stationary distribution, entropy rate H = Σ π(a,b) H(P(·|a,b)) and order-1 entropy
H(X_t | X_{t-1}) are exact (computed here, not estimated).
"""
from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from paperdag.seeding import step_generator


def markov_transitions(kind: str, vocab: int, k: int, group: int, alpha: float, leak: float, seed: int) -> np.ndarray:
    """The (V, V, V) transition tensor P[a, b, c] = p(c | a, b) of a `hier` or `flat` chain."""
    rng = np.random.default_rng(seed)
    P = np.full((vocab, vocab, vocab), leak / vocab)
    groups = [rng.choice(vocab, size=group, replace=False) for _ in range(vocab)]
    for a in range(vocab):
        for b in range(vocab):
            pool = groups[b] if kind == "hier" else np.arange(vocab)
            succ = rng.choice(pool, size=k, replace=False)
            P[a, b, succ] += (1.0 - leak) * rng.dirichlet(np.full(k, alpha))
    return P


def stationary_pairs(P: np.ndarray, tol: float = 1e-13, max_iter: int = 100_000) -> np.ndarray:
    """Stationary distribution π(a, b) of the pair chain (a, b) → (b, c), by power iteration."""
    V = P.shape[0]
    pi = np.full((V, V), 1.0 / V**2)
    for _ in range(max_iter):
        new = np.einsum("ab,abc->bc", pi, P)
        if np.abs(new - pi).sum() < tol:
            return new
        pi = new
    return pi


def _entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    return -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=axis)


def entropy_rate(P: np.ndarray, pi: np.ndarray) -> float:
    """H(X_t | X_{t-2}, X_{t-1}) under stationarity, in nats: the best achievable loss."""
    return float((pi * _entropy(P)).sum())


def order1_entropy(P: np.ndarray, pi: np.ndarray) -> float:
    """H(X_t | X_{t-1}) under stationarity: the loss of the best bigram predictor."""
    joint = np.einsum("ab,abc->bc", pi, P)  # p(b, c)
    cond = joint / joint.sum(axis=1, keepdims=True)
    return float((joint.sum(axis=1) * _entropy(cond)).sum())


@dataclass
class MarkovSource:
    """An infinite stream from a fixed order-2 chain; sequences are drawn with inverse-CDF sampling."""

    P: np.ndarray
    pi: np.ndarray
    name: str

    @classmethod
    def from_config(cls, name: str, cfg: dict[str, Any], vocab: int) -> MarkovSource:
        P = markov_transitions(cfg["kind"], vocab, cfg["k"], cfg.get("group", vocab), cfg["alpha"], cfg["leak"], cfg["seed"])
        return cls(P=P, pi=stationary_pairs(P), name=name)

    @property
    def vocab(self) -> int:
        return self.P.shape[0]

    def entropies(self) -> dict[str, float]:
        return {"entropy_rate": entropy_rate(self.P, self.pi), "order1_entropy": order1_entropy(self.P, self.pi)}

    def _tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        if not hasattr(self, "_cdf"):
            V = self.vocab
            self._cdf = torch.as_tensor(np.cumsum(self.P.reshape(V * V, V), axis=1), dtype=torch.float64)
            self._pi_cdf = torch.as_tensor(np.cumsum(self.pi.reshape(-1)), dtype=torch.float64)
        return self._cdf, self._pi_cdf

    def sample_uniforms(self, u: torch.Tensor) -> torch.Tensor:
        """Turn uniforms (N, L) into N stationary sequences of length L (the first two from π)."""
        cdf, pi_cdf = self._tables()
        V = self.vocab
        n, length = u.shape
        u = u.to(torch.float64)
        out = torch.empty(n, length, dtype=torch.long)
        pair = torch.searchsorted(pi_cdf, u[:, :1].contiguous()).clamp_max(V * V - 1).squeeze(1)
        out[:, 0], out[:, 1] = pair // V, pair % V
        for t in range(2, length):
            ctx = out[:, t - 2] * V + out[:, t - 1]
            out[:, t] = torch.searchsorted(cdf[ctx], u[:, t:t + 1].contiguous()).clamp_max(V - 1).squeeze(1)
        return out

    def batch(self, seeds: list[int], step: int, batch: int, length: int, stream: int = 0) -> torch.Tensor:
        """Fresh sequences (len(seeds), batch, length) for a training step; each seed's draw is its own."""
        u = torch.cat([torch.rand(batch, length, generator=step_generator(s, step, stream), dtype=torch.float64)
                       for s in seeds])
        return self.sample_uniforms(u).view(len(seeds), batch, length)

    def fixed_set(self, seed: int, n_seqs: int, length: int, stream: int) -> torch.Tensor:
        """A fixed set of sequences (n_seqs, length): evaluation sets and multi-epoch training data."""
        u = torch.rand(n_seqs, length, generator=step_generator(seed, 0, stream), dtype=torch.float64)
        return self.sample_uniforms(u)


def read_text(cfg: dict[str, Any]) -> str:
    """The control text: `pydoc_data` topics (CPython's bundled docs) or a (gzipped) text file."""
    if cfg["text"] == "pydoc_topics":
        from pydoc_data.topics import topics

        return "\n".join(topics[key] for key in sorted(topics))
    path = Path(cfg["text"])
    raw = gzip.open(path, "rb").read() if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", errors="replace")


@dataclass
class TextSource:
    """Character-level windows of a bundled text: train region first, then validation and test regions.

    The vocabulary is the V−1 most frequent characters of the train region plus one
    out-of-vocabulary id. Training windows do not overlap; a one-pass run reads each at most once.
    """

    tokens: torch.Tensor
    n_train: int
    n_eval: int
    name: str
    vocab: int

    @classmethod
    def from_config(cls, name: str, cfg: dict[str, Any], vocab: int) -> TextSource:
        text = read_text(cfg)
        n_eval = cfg["eval_chars"]
        n_train = len(text) - 2 * n_eval
        common = [c for c, _ in Counter(text[:n_train]).most_common(vocab - 1)]
        lookup = {c: i for i, c in enumerate(sorted(common))}
        ids = torch.tensor([lookup.get(c, vocab - 1) for c in text], dtype=torch.long)
        return cls(tokens=ids, n_train=n_train, n_eval=n_eval, name=name, vocab=vocab)

    def entropies(self) -> dict[str, float]:
        """Only the empirical order-1 entropy of the train region (the entropy rate is unknown)."""
        x = self.tokens[: self.n_train].numpy()
        joint = np.zeros((self.vocab, self.vocab))
        np.add.at(joint, (x[:-1], x[1:]), 1.0)
        joint /= joint.sum()
        cond = joint / np.maximum(joint.sum(axis=1, keepdims=True), 1e-300)
        return {"entropy_rate": float("nan"), "order1_entropy": float((joint.sum(axis=1) * _entropy(cond)).sum())}

    def train_windows(self, length: int, limit_tokens: int | None = None) -> torch.Tensor:
        """Non-overlapping windows (N, length) of the train region (optionally only its first tokens)."""
        end = self.n_train if limit_tokens is None else min(self.n_train, limit_tokens)
        n = end // length
        return self.tokens[: n * length].view(n, length)

    def batch(self, seeds: list[int], step: int, batch: int, length: int, stream: int = 0) -> torch.Tensor:
        """One-pass: step `step` reads windows [step·batch, (step+1)·batch) of a seed-specific order.

        Raises if the run would need a second epoch (silent repetition breaks the one-pass premise).
        """
        windows = self.train_windows(length)
        if (step + 1) * batch > len(windows):
            raise ValueError(f"{self.name}: one-pass run needs more than the {len(windows)} training windows")
        out = []
        for s in seeds:
            order = torch.randperm(len(windows), generator=step_generator(s, 0, stream + 17))
            out.append(windows[order[step * batch:(step + 1) * batch]])
        return torch.stack(out)

    def fixed_set(self, seed: int, n_seqs: int, length: int, stream: int) -> torch.Tensor:
        """Validation (stream 1) or test (stream 2) windows from the held-out tail of the text."""
        start = self.n_train + (stream - 1) * self.n_eval
        region = self.tokens[start:start + self.n_eval]
        n = len(region) // length
        return region[: n * length].view(n, length)[:n_seqs]


@dataclass
class C4Source:
    """Windows of tokenised C4: one-pass training windows from `train.bin`, evaluation from `val.bin`.

    Training windows are the non-overlapping windows of the train file; seed s reads them
    in its own fixed order (a permutation drawn from `step_generator(s, 0, ·)`), step t
    takes the t-th slice of it. So a batch depends only on (seed, step): resuming from a
    checkpoint reads exactly what the uninterrupted run would, and no window is read twice.
    Validation windows come from the first half of the validation file, test windows
    from the second half (C4 has no test split), spread evenly over each half.
    """

    train: np.ndarray  # uint16 memmaps, documents joined with EOS
    val: np.ndarray
    name: str
    vocab: int
    _orders: dict[tuple[int, int, int], torch.Tensor] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dir(cls, name: str, data_dir: str | Path) -> C4Source:
        data_dir = Path(data_dir)
        meta = json.loads((data_dir / "meta.json").read_text())
        train = np.memmap(data_dir / "train.bin", dtype=np.uint16, mode="r")
        val = np.memmap(data_dir / "val.bin", dtype=np.uint16, mode="r")
        if len(train) != meta["train"]["tokens"] or len(val) != meta["validation"]["tokens"]:
            raise ValueError(f"{data_dir}: token files do not match meta.json (rerun the tokenize stage)")
        return cls(train=train, val=val, name=name, vocab=int(meta["vocab_size"]))

    def entropies(self) -> dict[str, float]:
        """Unknown for real text (NaN): the claims treat the learnability gate as not applicable."""
        return {"entropy_rate": float("nan"), "order1_entropy": float("nan")}

    @staticmethod
    def _windows(tokens: np.ndarray, starts: np.ndarray, length: int) -> torch.Tensor:
        return torch.from_numpy(tokens[starts[:, None] + np.arange(length)].astype(np.int64))

    def train_windows(self, length: int, limit_tokens: int | None = None) -> torch.Tensor:
        """Non-overlapping windows (N, length) of the first `limit_tokens` train tokens (multi-epoch control)."""
        end = len(self.train) if limit_tokens is None else min(len(self.train), limit_tokens)
        return self._windows(self.train, np.arange(end // length) * length, length)

    def batch(self, seeds: list[int], step: int, batch: int, length: int, stream: int = 0) -> torch.Tensor:
        """One-pass: (len(seeds), batch, length) windows; raises rather than start a second epoch."""
        n = len(self.train) // length
        if (step + 1) * batch > n:
            raise ValueError(f"{self.name}: one-pass run needs more than the {n} training windows "
                             f"(tokenise more C4 shards)")
        out = []
        for s in seeds:
            key = (s, n, stream)
            if key not in self._orders:
                self._orders[key] = torch.randperm(n, generator=step_generator(s, 0, stream + 17))
            idx = self._orders[key][step * batch:(step + 1) * batch].numpy()
            out.append(self._windows(self.train, idx * length, length))
        return torch.stack(out)

    def fixed_set(self, seed: int, n_seqs: int, length: int, stream: int) -> torch.Tensor:
        """Validation (stream 1) or test (stream 2): n_seqs windows spread evenly over its half of val.bin."""
        if stream not in (1, 2):
            raise ValueError(f"{self.name}: fixed sets are validation (1) or test (2), not stream {stream}")
        half = len(self.val) // 2
        start = (stream - 1) * half
        if half < length:
            raise ValueError(f"{self.name}: validation file too short for windows of {length}")
        k = min(n_seqs, half // length)
        starts = start + np.arange(k, dtype=np.int64) * (half // k)  # spacing ≥ length: no overlap
        return self._windows(self.val, starts, length)


Source = MarkovSource | TextSource | C4Source


def make_source(name: str, cfg: dict[str, Any], vocab: int, data_dir: str | Path | None = None) -> Source:
    """A source from its config; a `c4` source reads the token files in `data_dir`."""
    if cfg["kind"] == "c4":
        return C4Source.from_dir(name, data_dir)
    return TextSource.from_config(name, cfg, vocab) if cfg["kind"] == "text" else MarkovSource.from_config(name, cfg, vocab)
