"""A batched decoder-only transformer LM: many small GPTs with the same shape, trained as one.

Recipe (Wortsman et al. 2023 / NanoDO style, as the protocol infers it; *unverified for this
paper*): pre-LayerNorm blocks, LayerNorm on queries and keys (per head, over the head
dimension, one gain shared by the heads), no biases anywhere (LayerNorms have gains only),
GELU MLP of width 4D, learned positional embeddings, untied input and output embeddings.

Initialisation (`GPTConfig.init_std`, config `arch.init_std`): the protocol's calibration
recipe, N(0, init_std²) for every matrix and both embeddings, with the residual output
projections (attention `proj` and the MLP's `fc_out`) at init_std/√(2L) when
`residual_init_scaled` (GPT-2's rule, L = layers); LayerNorm gains start at 1. `init_std=None`
keeps the previous recipe (PyTorch's defaults: N(0, 1) embeddings, U(±1/√fan_in) matrices).

Every weight carries a leading model axis M; linear maps are `paperdag.nn.BatchedLinear`
(bias-free), and every initial value is drawn from each model's own seed, so models that
share a seed start from identical weights whatever else is in the batch.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from paperdag.nn import BatchedLinear


@dataclass(frozen=True)
class GPTConfig:
    vocab: int
    context: int
    width: int
    layers: int
    head_dim: int = 16
    init_std: float | None = None  # None: PyTorch's default init (N(0, 1) embeddings, U(±1/√fan_in) matrices)
    residual_init_scaled: bool = False  # proj and fc_out at init_std/√(2·layers)

    @property
    def heads(self) -> int:
        return self.width // self.head_dim


def _normal(seeds: Sequence[int], shape: tuple[int, ...], std: float, salt: int) -> torch.Tensor:
    """Per-model N(0, std²) draws of `shape`, each from its model's own seed (stacked on axis 0)."""
    out = []
    for s in seeds:
        gen = torch.Generator().manual_seed(s * 7_919 + 3_000 + salt)
        out.append(torch.randn(*shape, generator=gen) * std)
    return torch.stack(out)


def _embedding(seeds: Sequence[int], rows: int, width: int, salt: int, std: float | None) -> nn.Parameter:
    """Per-model embeddings: N(0, std²), or N(0, 1) (PyTorch's nn.Embedding init) when std is None."""
    return nn.Parameter(_normal(seeds, (rows, width), 1.0 if std is None else std, salt))


def _reinit(seeds: Sequence[int], lin: BatchedLinear, std: float | None, salt: int) -> None:
    """Replace a BatchedLinear's default uniform init by N(0, std²) per model (no-op when std is None)."""
    if std is not None:
        with torch.no_grad():
            lin.weight.copy_(_normal(seeds, tuple(lin.weight.shape[1:]), std, salt))


def _layer_norm(x: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """Bias-free LayerNorm over the last axis; `gain` broadcasts over everything but the model axis."""
    return F.layer_norm(x, x.shape[-1:]) * gain


class Block(nn.Module):
    """One pre-LN block: x + Attn(LN(x)), then x + MLP(LN(x)); qk-LayerNorm inside attention."""

    def __init__(self, seeds: Sequence[int], cfg: GPTConfig, index: int) -> None:
        super().__init__()
        M, D, hd = len(seeds), cfg.width, cfg.head_dim
        base = 10 * index
        self.cfg = cfg
        self.ln1 = nn.Parameter(torch.ones(M, 1, D))
        self.ln2 = nn.Parameter(torch.ones(M, 1, D))
        self.q_ln = nn.Parameter(torch.ones(M, 1, 1, 1, hd))
        self.k_ln = nn.Parameter(torch.ones(M, 1, 1, 1, hd))
        self.qkv = BatchedLinear(seeds, D, 3 * D, bias=False, layer=base + 1)
        self.proj = BatchedLinear(seeds, D, D, bias=False, layer=base + 2)
        self.fc = BatchedLinear(seeds, D, 4 * D, bias=False, layer=base + 3)
        self.fc_out = BatchedLinear(seeds, 4 * D, D, bias=False, layer=base + 4)
        std = cfg.init_std
        resid = None if std is None else std / math.sqrt(2 * cfg.layers) if cfg.residual_init_scaled else std
        for k, (lin, s) in enumerate(((self.qkv, std), (self.proj, resid), (self.fc, std), (self.fc_out, resid))):
            _reinit(seeds, lin, s, salt=100 + base + k)

    def forward(self, x: torch.Tensor, batch: int) -> torch.Tensor:
        """x: (M, B·T, D) → (M, B·T, D)."""
        M, N, D = x.shape
        T, H, hd = N // batch, self.cfg.heads, self.cfg.head_dim
        # unbind, not three index slices: its backward stacks the three gradients into one tensor, where
        # each slice's backward would zero-fill a full-size qkv gradient and add them (same values, bitwise)
        q, k, v = self.qkv(_layer_norm(x, self.ln1)).view(M, batch, T, 3, H, hd).unbind(3)
        q = _layer_norm(q, self.q_ln)  # (M, B, T, H, hd)
        k = _layer_norm(k, self.k_ln)
        q, k, v = (t.transpose(2, 3).reshape(M * batch, H, T, hd) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = y.view(M, batch, H, T, hd).transpose(2, 3).reshape(M, N, D)
        x = x + self.proj(y)
        return x + self.fc_out(F.gelu(self.fc(_layer_norm(x, self.ln2))))


class BatchedGPT(nn.Module):
    """M decoder-only LMs; `forward(tokens (M, B, T)) → logits (M, B, T, V)`."""

    def __init__(self, seeds: Sequence[int], cfg: GPTConfig) -> None:
        super().__init__()
        if cfg.width % cfg.head_dim:
            raise ValueError(f"width {cfg.width} is not a multiple of the head dimension {cfg.head_dim}")
        self.cfg = cfg
        M = len(seeds)
        self.tok_emb = _embedding(seeds, cfg.vocab, cfg.width, salt=0, std=cfg.init_std)
        self.pos_emb = _embedding(seeds, cfg.context, cfg.width, salt=1, std=cfg.init_std)
        self.blocks = nn.ModuleList(Block(seeds, cfg, i) for i in range(cfg.layers))
        self.ln_f = nn.Parameter(torch.ones(M, 1, cfg.width))
        self.head = BatchedLinear(seeds, cfg.width, cfg.vocab, bias=False, layer=999)
        _reinit(seeds, self.head, cfg.init_std, salt=99)

    @property
    def n_models(self) -> int:
        return self.tok_emb.shape[0]

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        M, B, T = tokens.shape
        rows = torch.arange(M, device=tokens.device).view(M, 1, 1)
        x = (self.tok_emb[rows, tokens] + self.pos_emb[:, None, :T]).reshape(M, B * T, -1)
        for block in self.blocks:
            x = block(x, B)
        return self.head(_layer_norm(x, self.ln_f)).view(M, B, T, -1)


def lm_losses(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model mean cross-entropy (nats/token) and mean squared log-partition (for the z-loss).

    One log-partition serves both (cross-entropy = log Z − the target's logit): the same values
    as `F.cross_entropy` plus a second `logsumexp`, for one pass over the logits fewer.
    """
    M = logits.shape[0]
    lse = torch.logsumexp(logits, dim=-1)
    picked = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    ce = (lse - picked).reshape(M, -1).mean(1)
    z2 = lse.pow(2).reshape(M, -1).mean(1)
    return ce, z2


def n_params(cfg: GPTConfig) -> int:
    """All parameters of one model (embeddings and gains included): the 'tokens per parameter' denominator."""
    D, L = cfg.width, cfg.layers
    per_block = 12 * D * D + 2 * D + 2 * cfg.head_dim
    return cfg.vocab * D + cfg.context * D + L * per_block + D + D * cfg.vocab


def matmul_params(cfg: GPTConfig) -> int:
    """Parameters used in matrix multiplies (blocks and output head; embedding lookups are not)."""
    return cfg.layers * 12 * cfg.width**2 + cfg.width * cfg.vocab


def train_flops_per_token(cfg: GPTConfig) -> float:
    """Model FLOPs per trained token, PaLM's MFU convention: 6·N_matmul + 12·L·D·T.

    6N counts forward (2N) and backward (4N) matmuls; 12·L·D·T the attention scores and
    weighted values (2·2·L·T·D forward, times 3 for training), with the full T×T matrix.
    """
    return 6.0 * matmul_params(cfg) + 12.0 * cfg.layers * cfg.width * cfg.context


def matmul_peak_flops(threads: int, size: int, seconds: float, device: str = "cpu") -> float:
    """Measured float32 matmul peak (FLOP/s) of this process's threads, or of the GPU: best of repeated
    size×size products over `seconds` (config: 384 on a CPU, 8192 on a GPU, large enough to saturate
    it). Measured once per process and setting: a job's ensembles share one denominator. The GPU
    keeps its default float32 matmul precision (no TF32), the same precision the models train in.
    """
    torch.set_num_threads(threads)
    return _measured_peak(threads, size, seconds, device)


@functools.cache
def _measured_peak(threads: int, size: int, seconds: float, device: str) -> float:
    import time

    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    sync = torch.cuda.synchronize if device != "cpu" else (lambda: None)
    (a @ b).sum().item()  # warm-up
    best, spent = 0.0, 0.0
    while spent < seconds:
        sync()
        t0 = time.perf_counter()
        for _ in range(8):
            a @ b
        sync()
        dt = time.perf_counter() - t0
        spent += dt
        best = max(best, 8 * 2 * size**3 / dt)
    return best
