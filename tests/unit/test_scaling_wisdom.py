"""scaling_wisdom: model, FLOPs, optimiser, sources, detectors and job layout, each against an independent computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from paperdag.papers.scaling_wisdom import analysis, spec
from paperdag.papers.scaling_wisdom.model import BatchedGPT, GPTConfig, lm_losses, matmul_params, n_params, train_flops_per_token
from paperdag.papers.scaling_wisdom.optim import BatchedAdamW, lr_factor
from paperdag.papers.scaling_wisdom.sources import (
    MarkovSource,
    entropy_rate,
    markov_transitions,
    order1_entropy,
    stationary_pairs,
)

torch.set_num_threads(1)
HIER = {"kind": "hier", "k": 4, "group": 8, "alpha": 1.0, "leak": 0.02, "seed": 1234}


def test_causal_mask_future_tokens_do_not_change_past_logits() -> None:
    cfg = GPTConfig(vocab=11, context=12, width=32, layers=2, head_dim=16)
    model = BatchedGPT([0, 1, 2], cfg)
    x = torch.randint(0, 11, (3, 2, 12), generator=torch.Generator().manual_seed(0))
    y = x.clone()
    y[..., 7:] = (y[..., 7:] + 3) % 11
    with torch.no_grad():
        a, b = model(x), model(y)
    assert torch.allclose(a[..., :7, :], b[..., :7, :], atol=1e-5)
    assert not torch.allclose(a[..., 7:, :], b[..., 7:, :], atol=1e-3)


@pytest.mark.parametrize("init_std", [None, 0.02])
def test_models_sharing_a_seed_are_identical_and_independent_of_batch_mates(init_std: float | None) -> None:
    cfg = GPTConfig(vocab=7, context=5, width=16, layers=1, init_std=init_std, residual_init_scaled=True)
    x = torch.randint(0, 7, (1, 2, 5), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        alone = BatchedGPT([4], cfg)(x)
        mixed = BatchedGPT([3, 4, 4], cfg)(x.expand(3, -1, -1))
    assert torch.allclose(mixed[1], alone[0], atol=1e-6) and torch.allclose(mixed[2], alone[0], atol=1e-6)
    assert not torch.allclose(mixed[0], alone[0])


def test_calibration_init_scales_and_the_default_init_it_replaces() -> None:
    """N(0, 0.02²) everywhere, 0.02/√(2L) on proj and fc_out; init_std=None keeps PyTorch's defaults."""
    L = 3
    cfg = GPTConfig(vocab=64, context=64, width=64, layers=L, init_std=0.02, residual_init_scaled=True)
    model = BatchedGPT([0, 1], cfg)
    stds = {n: float(p.detach().std()) for n, p in model.named_parameters() if n.endswith(("weight", "_emb"))}
    assert len(stds) == 2 + 4 * L + 1
    resid = 0.02 / math.sqrt(2 * L)
    for name, std in stds.items():
        want = resid if name.endswith(("proj.weight", "fc_out.weight")) else 0.02
        assert std == pytest.approx(want, rel=0.1), name
    assert float(model.blocks[0].ln1.min()) == float(model.blocks[0].ln1.max()) == 1.0
    unscaled = BatchedGPT([0, 1], GPTConfig(vocab=64, context=64, width=64, layers=L, init_std=0.02))
    assert float(unscaled.blocks[0].proj.weight.std()) == pytest.approx(0.02, rel=0.1)
    old = BatchedGPT([0, 1], GPTConfig(vocab=64, context=64, width=64, layers=L))  # the control: the previous init
    assert float(old.tok_emb.std()) == pytest.approx(1.0, rel=0.1)
    assert float(old.blocks[0].fc.weight.abs().max()) > 0.1  # U(±1/8), not N(0, 0.02²)


@pytest.mark.parametrize("scope", ["linear", "all"])
def test_coupled_l2_and_weight_decay_act_on_the_configured_tensors(scope: str) -> None:
    from paperdag.papers.scaling_wisdom.experiment import LMTask, ModelSpec

    src = MarkovSource.from_config("hier", HIER, 16)
    gpt = GPTConfig(vocab=16, context=8, width=16, layers=2, init_std=0.02, residual_init_scaled=True)
    train = {"loss_tail_frac": 0.1, "reg_scope": scope, "warmup_frac": 0.0, "final_lr_frac": 0.1, "betas": [0.9, 0.95],
             "eps": 1e-8, "clip": 1.0, "z_loss": 0.0}
    specs = [ModelSpec(lr=1e-2, seed=0, l2=2.0), ModelSpec(lr=1e-2, seed=1, l2=0.0)]
    task = LMTask(src, specs, gpt, batch=2, steps=4, train=train)
    m = task.model
    linear = [m.head.weight] + [getattr(b, k).weight for b in m.blocks for k in ("qkv", "proj", "fc", "fc_out")]
    emb = [m.tok_emb, m.pos_emb]
    tensors = linear + (emb if scope == "all" else [])
    want = sum(float(p[0].pow(2).sum()) for p in tensors)  # (λ/2)·‖θ‖² with λ = 2
    pen = task.l2_penalty()
    assert float(pen[0]) == pytest.approx(want, rel=1e-5) and float(pen[1]) == 0.0
    decayed = {id(p) for g in task.configure_optimizer().param_groups if g["decay"] for p in g["params"]}
    assert decayed == {id(p) for p in tensors}
    assert (id(m.tok_emb) in decayed) == (scope == "all") and id(m.blocks[0].ln1) not in decayed


def test_flop_and_parameter_counts_against_a_hand_count() -> None:
    cfg = GPTConfig(vocab=8, context=4, width=16, layers=1, head_dim=16)
    # hand count: qkv 16·48 + proj 16·16 + fc 16·64 + fc_out 64·16 = 3072 matmul weights; head 16·8 = 128
    assert matmul_params(cfg) == 3072 + 128
    # 6·N + 12·L·D·T = 6·3200 + 12·1·16·4
    assert train_flops_per_token(cfg) == 19200 + 768
    model = BatchedGPT([0, 1], cfg)
    assert n_params(cfg) == sum(p.numel() for p in model.parameters()) // 2


def test_cross_entropy_matches_a_direct_computation() -> None:
    logits = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
    targets = torch.randint(0, 5, (2, 3, 4), generator=torch.Generator().manual_seed(1))
    ce, z2 = lm_losses(logits, targets)
    p = torch.softmax(logits, -1).gather(-1, targets[..., None]).squeeze(-1)
    assert torch.allclose(ce, -p.log().reshape(2, -1).mean(1), atol=1e-6)
    assert torch.allclose(z2, torch.logsumexp(logits, -1).pow(2).reshape(2, -1).mean(1), atol=1e-5)


def _numpy_adamw(
    w: np.ndarray, grads: list[np.ndarray], lr: float, wd: float, b1: float = 0.9, b2: float = 0.95, eps: float = 1e-8
) -> np.ndarray:
    """AdamW (Loshchilov & Hutter; PyTorch's convention p ← p − lr·wd·p) written out in NumPy."""
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w * (1 - lr * wd) - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w


def test_batched_adamw_equals_adamw_per_model() -> None:
    """Two models with their own LR and decoupled decay, constant schedule, no clipping = two AdamW runs."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(2, 3, 4))
    grads = [rng.normal(size=(2, 3, 4)) for _ in range(5)]
    w = torch.nn.Parameter(torch.tensor(w0, dtype=torch.float64))
    opt = BatchedAdamW([w], lr=[1e-2, 3e-3], weight_decay=[0.1, 0.0], total_steps=5, warmup_steps=0, final_frac=1.0, clip=None)
    for g in grads:
        w.grad = torch.tensor(g)
        opt.step()
    for m, (lr, wd) in enumerate([(1e-2, 0.1), (3e-3, 0.0)]):
        ref = _numpy_adamw(w0[m], [g[m] for g in grads], lr, wd)
        assert np.allclose(w.detach().numpy()[m], ref, atol=1e-7)


def test_per_model_gradient_clipping_and_schedule() -> None:
    w = torch.nn.Parameter(torch.zeros(2, 3))
    opt = BatchedAdamW([w], lr=[1.0, 1.0], weight_decay=[0.0, 0.0], total_steps=10, warmup_steps=0, final_frac=1.0, clip=1.0)
    w.grad = torch.tensor([[30.0, 40.0, 0.0], [0.3, 0.4, 0.0]])  # norms 50 (clipped) and 0.5 (kept)
    opt.step()
    # Adam's first step is sign-like, so clipping shows only in the state: m = (1 − β1)·clipped g
    assert torch.allclose(opt.state[w]["exp_avg"], 0.1 * torch.tensor([[0.6, 0.8, 0.0], [0.3, 0.4, 0.0]]), atol=1e-6)
    assert lr_factor(0, 100, 10, 0.0) == pytest.approx(0.1) and lr_factor(9, 100, 10, 0.0) == pytest.approx(1.0)
    assert lr_factor(55, 100, 10, 0.0) == pytest.approx(0.5) and lr_factor(100, 100, 10, 0.1) == pytest.approx(0.1)


def test_stationary_distribution_against_an_eigenvector() -> None:
    P = markov_transitions("hier", 6, 2, 3, 1.0, 0.05, seed=3)
    pi = stationary_pairs(P)
    V = 6
    T = np.zeros((V * V, V * V))  # dense pair-chain transition matrix (a,b) → (b,c)
    for a in range(V):
        for b in range(V):
            T[a * V + b, b * V : (b + 1) * V] = P[a, b]
    vals, vecs = np.linalg.eig(T.T)
    ref = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    assert np.allclose(pi.reshape(-1), ref / ref.sum(), atol=1e-9)


@pytest.mark.parametrize("kind", ["hier", "flat"])
def test_exact_entropies_against_a_long_empirical_estimate(kind: str) -> None:
    src = MarkovSource.from_config(kind, {**HIER, "kind": kind}, 64)
    x = src.fixed_set(seed=5, n_seqs=3000, length=65, stream=9).numpy()  # ~2·10⁵ tokens
    nll = -np.log(src.P[x[:, :-2], x[:, 1:-1], x[:, 2:]])
    assert nll.mean() == pytest.approx(entropy_rate(src.P, src.pi), abs=0.015)
    joint = np.zeros((64, 64))
    np.add.at(joint, (x[:, :-1].ravel(), x[:, 1:].ravel()), 1.0)
    joint /= joint.sum()
    cond = joint / np.maximum(joint.sum(1, keepdims=True), 1e-300)
    emp = -(joint * np.log(np.where(cond > 0, cond, 1))).sum()
    assert emp == pytest.approx(order1_entropy(src.P, src.pi), abs=0.03)
    if kind == "hier":
        assert 1.0 < entropy_rate(src.P, src.pi) < order1_entropy(src.P, src.pi) - 0.5
    else:
        assert order1_entropy(src.P, src.pi) > 3.5


def test_learnability_gate_rejects_an_untrained_model() -> None:
    from paperdag.papers.scaling_wisdom.experiment import evaluate

    src = MarkovSource.from_config("hier", HIER, 64)
    model = BatchedGPT([0, 1], GPTConfig(vocab=64, context=16, width=16, layers=1))
    losses = evaluate(model, src.fixed_set(0, 64, 17, stream=1)).tolist()
    gate = analysis.learnability_gate(losses, src.entropies()["order1_entropy"], 0.1)
    assert not gate.learnable and gate.best_loss > 3.0
    assert analysis.learnability_gate([1.5, 2.5], 2.036, 0.1).learnable


def test_interpolated_optimum_on_a_parabola_and_at_an_edge() -> None:
    lrs = np.logspace(-3, -1, 6)
    x0 = math.log(0.012)
    opt = analysis.interpolated_optimum(lrs, (np.log(lrs) - x0) ** 2 + 2.0)
    assert opt.inside and opt.lr == pytest.approx(0.012, rel=1e-6)
    edge = analysis.interpolated_optimum(lrs, -np.log(lrs))  # still improving at the largest LR
    assert not edge.inside and edge.lr == pytest.approx(0.1)
    div = analysis.interpolated_optimum(lrs, (np.log(lrs) - x0) ** 2, diverged=[0, 0, 0, 0, 0, 1])
    assert div.largest_stable == pytest.approx(lrs[4])


def test_slope_detector_with_and_without_a_trend() -> None:
    widths = np.array([16, 32, 64, 128])
    noise = np.array([1.05, 0.97, 1.02, 0.98])
    fit = analysis.loglog_slope(widths, 0.05 * (16 / widths) * noise)
    ref = np.polyfit(np.log(widths), np.log(0.05 * (16 / widths) * noise), 1)[0]
    assert fit.slope == pytest.approx(ref) and fit.slope < -0.3 and fit.hi < 0
    flat = analysis.loglog_slope(widths, 0.02 * noise)
    assert flat.lo < 0 < flat.hi


def _cross_runs(delta: dict[int, float], noise: float) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for w, d in delta.items():
        for s in range(3):
            base = 2.0 + rng.normal(0, 0.05)
            rows += [
                {"width": w, "rule": "scaled", "seed": s, "test_loss": base},
                {"width": w, "rule": "const", "seed": s, "test_loss": base + d + rng.normal(0, noise)},
            ]
    return pd.DataFrame(rows)


def test_crossover_detector_with_and_without_the_effect() -> None:
    widths = [16, 32, 64, 128, 256]
    with_effect = analysis.crossover_curve(_cross_runs(dict(zip(widths, [0.0, 0.01, 0.04, 0.08, 0.25])), 0.003))
    assert with_effect.spearman >= 0.8 and with_effect.delta[-1] > 3 * with_effect.se[-1]
    ref = _cross_runs(dict(zip(widths, [0.0, 0.01, 0.04, 0.08, 0.25])), 0.003)
    g = ref[ref.width == 256]
    diff = g[g.rule == "const"].test_loss.to_numpy() - g[g.rule == "scaled"].test_loss.to_numpy()
    assert with_effect.delta[-1] == pytest.approx(diff.mean()) and with_effect.se[-1] == pytest.approx(
        diff.std(ddof=1) / math.sqrt(3)
    )
    without = analysis.crossover_curve(_cross_runs(dict(zip(widths, [0.0, 0.02, -0.01, 0.01, -0.02])), 0.003))
    assert without.spearman < 0.8


def test_job_layout_outputs_are_disjoint_and_dependencies_are_sweeps() -> None:
    from pathlib import Path

    import yaml

    from paperdag.config import deep_merge

    section = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())["scaling_wisdom"]
    for scale in ("smoke", "default", "paper"):
        cfg = deep_merge(section["base"], section[scale])
        outs = [f for j in cfg["jobs"] for f in spec.outputs(cfg, "train", {"job": j})]
        assert len(outs) == len(set(outs))
        assert sorted(spec.inputs(cfg, "report", {})) == sorted(outs)
        for j in cfg["jobs"]:
            needed = [f for f in spec.inputs(cfg, "train", {"job": j}) if not f.startswith("tokens/")]  # c4 data: paper scale
            assert set(needed) <= set(outs) and all(f.startswith("runs/sweep/") for f in needed)
