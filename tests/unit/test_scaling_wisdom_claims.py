"""scaling_wisdom: the self-extending LR sweep, and each asserted claim on a passing input and on its negative control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from paperdag.claims import CAUGHT, FAIL, INCONCLUSIVE, PASS, evaluate_claim
from paperdag.papers.scaling_wisdom import analysis
from paperdag.papers.scaling_wisdom.claims import claims

H1 = 3.0  # order-1 entropy of the constructed source: every sensible run beats it
EXT = {"step": 2.512, "cap": 10.0, "floor": 1e-4, "max_rounds": 5}
CFG = {
    "claims": {
        "gate_margin": 0.1,
        "gap_tolerance": 0.02,
        "gap_min_tokens_per_param": 20.0,
        "gap_min_configs": 3,
        "l2_se": 2.0,
        "l2_min_seeds": 3,
        "l2_resolution": 0.02,
        "slope_max": -0.3,
        "below_se": 2.0,
        "delta_min": 0.02,
        "delta_se": 3.0,
        "mfu_width": 16,
    },
    "claims_source": "hier",
    "sources": ["hier"],
    "lr_extend": EXT,
    "crossover": {"source": "hier", "ref": 64, "widths": [16, 32, 128]},
    "batch": {"source": "hier", "width": 64, "batches": [4, 8, 16, 32, 64], "min_range": 16},
    "reg": {},
}
SEEDS = (0, 1, 2)


def _claim(cid: str):
    return next(c for c in claims(CFG) if c.id == cid)


def _base(**kw) -> dict:
    return {"source": "hier", "order1_entropy": H1, "vocab": 64, "diverged": False, **kw}


def _loss(lr: float, opt: float, seed: int) -> float:
    """U-shaped in log LR around `opt`; above 8× the optimum the run blows up to the bigram level."""
    if lr > 8 * opt:
        return H1 + 0.5
    return 2.0 + 0.05 * np.log(lr / opt) ** 2 + 0.001 * seed


def _sweep_runs(widths=(16, 32, 64, 128), lrs=None) -> pd.DataFrame:
    rows = []
    for w in widths:
        opt = 0.1 * 16 / w
        grid = lrs if lrs is not None else opt * 2.512 ** np.arange(-2, 4)
        for lr in grid:
            for s in SEEDS:
                v = _loss(lr, opt, s)
                rows.append(_base(experiment="sweep", width=w, lr=float(lr), seed=s, val_loss=v, test_loss=v))
    return pd.DataFrame(rows)


def test_next_lrs_grows_up_until_unstable_and_down_off_the_bottom_edge() -> None:
    step, cap, floor = 2.512, 10.0, 1e-4
    lrs = [0.01, 0.0251, 0.0631]
    # still improving at the top: one step up
    assert analysis.next_lrs(lrs, [2.3, 2.2, 2.1], [False] * 3, step=step, cap=cap, floor=floor) == pytest.approx([0.0631 * step])
    # interior optimum but nothing unstable yet: keep probing up for the stability limit
    assert analysis.next_lrs(lrs, [2.3, 2.1, 2.2], [False] * 3, step=step, cap=cap, floor=floor) == pytest.approx([0.0631 * step])
    # interior optimum and an unstable LR above it: done
    assert analysis.next_lrs(lrs, [2.3, 2.1, 3.5], [False, False, True], step=step, cap=cap, floor=floor) == []
    # optimum on the bottom edge (limit already found above): one step down only
    assert analysis.next_lrs(lrs, [2.1, 2.2, 3.5], [False, False, True], step=step, cap=cap, floor=floor) == pytest.approx(
        [0.01 / step]
    )
    # the cap and the floor stop it
    assert analysis.next_lrs([4.0, 8.0], [2.2, 2.1], [False, False], step=step, cap=cap, floor=floor) == []
    assert analysis.next_lrs([1e-4, 2e-4], [2.1, 2.2], [False, True], step=step, cap=cap, floor=floor) == []


def test_stability_limit_is_read_above_the_optimum() -> None:
    lrs = [0.01, 0.0251, 0.0631, 0.158, 0.398]
    opt = analysis.interpolated_optimum(lrs, [2.5, 2.1, 2.2, 2.4, 3.6], unstable=[True, False, False, False, True])
    assert opt.inside and opt.limit_found and opt.largest_stable == pytest.approx(0.158)
    assert opt.stability_ratio == pytest.approx(0.158 / opt.lr)
    none = analysis.interpolated_optimum(lrs, [2.5, 2.1, 2.2, 2.4, 2.6])
    assert not none.limit_found and none.largest_stable == pytest.approx(0.398)
    assert analysis.is_unstable(3.2, False, H1) and analysis.is_unstable(float("nan"), False, H1)
    assert not analysis.is_unstable(2.2, False, H1)
    assert analysis.instability_threshold(2.0, 64) == pytest.approx((2.0 + np.log(64)) / 2)
    # from runs: unstable when nearer ln V than the sweep's best, whatever the bigram entropy
    runs = pd.DataFrame([_base(lr=lr, seed=0, val_loss=v) for lr, v in [(0.01, 2.3), (0.03, 2.1), (0.1, 2.2), (0.3, 3.7)]])
    curve = analysis.lr_curve(runs)
    assert curve["unstable"].tolist() == [False, False, False, True]
    assert analysis.optimum_from_runs(runs).largest_stable == pytest.approx(0.1)


def test_lr_optimum_inside_passes_fails_its_control_and_is_inconclusive_with_room_left() -> None:
    runs = _sweep_runs()
    res = evaluate_claim(_claim("lr_optimum_inside"), runs, "default")
    assert res.status == PASS and res.negative_control["status"] == CAUGHT
    assert res.gates[0]["status"] == PASS
    # a grid that stops below the optimum at width 16 while it could still grow: inconclusive, not fail
    short = runs[~((runs.width == 16) & (runs.lr > 0.05))]
    assert evaluate_claim(_claim("lr_optimum_inside"), short, "default").status == INCONCLUSIVE
    # the same edge at the declared cap is a finding: fail
    cap = _sweep_runs(widths=(16,), lrs=[2.512, 6.31, 10.0 / 2.512 * 2.512]).assign(val_loss=lambda d: 3.0 - d.lr / 100)
    cap = cap.assign(test_loss=cap.val_loss)
    assert evaluate_claim(_claim("lr_optimum_inside"), cap, "default").status == FAIL


def test_lr_slope_passes_and_its_constant_optimum_control_is_caught() -> None:
    res = evaluate_claim(_claim("lr_optimum_slope"), _sweep_runs(), "default")
    assert res.status == PASS and res.measured == pytest.approx(-1.0, abs=0.05)
    assert res.negative_control["status"] == CAUGHT
    report = evaluate_claim(_claim("lr_stability_ratio"), _sweep_runs(), "default")
    assert report.status == "report" and 4.0 < report.measured < 10.0


def _batch_runs(best: int, tuned_mult_at: dict[int, float] | None = None) -> pd.DataFrame:
    """Test loss U-shaped in log batch with its minimum at `best`; per batch a U in the LR multiple."""
    rows = []
    for b in (4, 8, 16, 32, 64):
        centre = np.sqrt(b / 16)
        mults = sorted({round(centre * m, 3) for m in (0.5, 1.0, 2.0)} | {1.0})
        m_opt = (tuned_mult_at or {}).get(b, centre)
        for m in mults:
            for s in SEEDS[:2]:
                v = 2.0 + 0.03 * np.log(b / best) ** 2 + 0.04 * np.log(m / m_opt) ** 2 + 0.001 * s
                rows.append(
                    _base(experiment="batch", width=64, batch=b, lr=0.018 * m, lr_mult=m, seed=s, val_loss=v, test_loss=v)
                )
    return pd.DataFrame(rows)


def test_batch_claim_on_the_tuned_curve_with_its_gates_and_control() -> None:
    runs = pd.concat([_sweep_runs(), _batch_runs(best=16)], ignore_index=True)
    res = evaluate_claim(_claim("batch_not_smallest"), runs, "default")
    assert res.status == PASS and res.measured == 16 and res.negative_control["status"] == CAUGHT
    smallest = pd.concat([_sweep_runs(), _batch_runs(best=2)], ignore_index=True)
    assert evaluate_claim(_claim("batch_not_smallest"), smallest, "default").status == FAIL
    # a per-batch LR choice on its grid's edge makes it inconclusive
    edge = pd.concat([_sweep_runs(), _batch_runs(best=16, tuned_mult_at={4: 0.05})], ignore_index=True)
    out = evaluate_claim(_claim("batch_not_smallest"), edge, "default")
    assert out.status == INCONCLUSIVE and any(g["id"] == "batch_lr_interior" and g["status"] == FAIL for g in out.gates)
    # too narrow a range of batch sizes: inconclusive
    narrow = runs[~runs.batch.isin([4, 64])]
    assert evaluate_claim(_claim("batch_not_smallest"), narrow, "default").status == INCONCLUSIVE


def _cross_runs(delta: dict[int, float], noise: float = 0.003) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for w, d in delta.items():
        for s in SEEDS:
            base = 2.0 + rng.normal(0, 0.01)
            e = rng.normal(0, noise)
            rows.append(
                _base(
                    experiment="crossover",
                    width=w,
                    rule="scaled",
                    seed=s,
                    test_loss=base,
                    val_loss=base,
                    tuned_lr_inside_grid=True,
                )
            )
            rows.append(
                _base(
                    experiment="crossover",
                    width=w,
                    rule="const",
                    seed=s,
                    test_loss=base + d + e,
                    val_loss=base + d + e,
                    tuned_lr_inside_grid=True,
                )
            )
    return pd.DataFrame(rows)


def test_crossover_sign_change_passes_fails_without_it_and_catches_its_control() -> None:
    with_sign = pd.concat([_sweep_runs(), _cross_runs({16: -0.01, 32: -0.005, 128: 0.1})], ignore_index=True)
    res = evaluate_claim(_claim("crossover_sign_change"), with_sign, "default")
    assert res.status == PASS and res.negative_control["status"] == CAUGHT
    # LR ∝ 1/D better on both sides (no sign change): fails
    no_sign = pd.concat([_sweep_runs(), _cross_runs({16: 0.1, 32: 0.05, 128: 0.1})], ignore_index=True)
    assert evaluate_claim(_claim("crossover_sign_change"), no_sign, "default").status == FAIL
    # all widths on one side of D_ref: inconclusive
    one_side = pd.concat([_sweep_runs(), _cross_runs({128: 0.1, 256: 0.2})], ignore_index=True)
    assert evaluate_claim(_claim("crossover_sign_change"), one_side, "default").status in (INCONCLUSIVE, "not evaluated")


L2S = (0.0, 1e-4, 1e-3, 1e-2)


def _reg_runs(effect: dict[str, dict[float, float]], seeds=SEEDS, noise: float = 0.002) -> pd.DataFrame:
    """Reg runs at width 32: per regime, test/val loss = base + effect[regime][λ] + seed noise; the
    multi-epoch train loss sits far below validation (repeated data), the one-pass one just below."""
    rows = []
    for regime, eff in effect.items():
        for lam in L2S:
            for s in seeds:
                v = 2.0 + eff.get(lam, 0.0) + noise * ((s * 7 + int(lam * 1e4)) % 5 - 2)
                train = v - (0.8 if regime == "multi_epoch" else 0.005)
                tpp = 18.9 if regime == "multi_epoch" else 21.0
                rows.append(_base(experiment="reg", regime=regime, width=32, batch=16, method=f"l2_{lam:.3g}", l2=lam, wd=0.0,
                                  lr=0.05, seed=s, val_loss=v, test_loss=v, train_loss=train, tokens_per_param=tpp))
    return pd.DataFrame(rows)


GOOD_REG = {"one_pass": {1e-4: 0.0005, 1e-3: 0.01, 1e-2: 0.2}, "multi_epoch": {1e-4: -0.05, 1e-3: -0.3, 1e-2: -0.5}}


def _gap_runs(reg: dict | None = None) -> pd.DataFrame:
    """One-pass sweep runs at ≥ 20 tokens/param with train ≈ validation, plus the reg runs."""
    sweep = _sweep_runs(widths=(16,)).assign(regime="one_pass", batch=16, method="lr", tokens_per_param=21.4)
    sweep = sweep.assign(train_loss=sweep.val_loss * 0.995)
    return pd.concat([sweep, _reg_runs(reg or GOOD_REG)], ignore_index=True)


def test_one_pass_gap_passes_catches_multi_epoch_control_and_needs_enough_configs() -> None:
    runs = _gap_runs()
    res = evaluate_claim(_claim("one_pass_gap"), runs, "default")
    assert res.status == PASS and res.gates[0]["status"] == PASS
    assert res.negative_control["status"] == CAUGHT and res.negative_control["value"] > 0.3
    # multi-epoch runs that alone would not pass the learnability gate: the control still keeps the one-pass runs
    overfit = _gap_runs({**GOOD_REG, "multi_epoch": {0.0: 1.0, 1e-4: 1.0, 1e-3: 1.0, 1e-2: 1.0}})
    assert evaluate_claim(_claim("one_pass_gap"), overfit, "default").negative_control["status"] == CAUGHT
    # too few configurations with enough tokens per parameter: inconclusive
    one_lr = (runs.experiment == "sweep") & (runs.lr <= runs.lr.min() * 1.01)
    few = runs[one_lr | (runs.regime == "multi_epoch")]
    assert evaluate_claim(_claim("one_pass_gap"), few, "default").status == INCONCLUSIVE


def test_l2_one_pass_passes_fails_when_l2_helps_and_its_gates() -> None:
    res = evaluate_claim(_claim("l2_one_pass"), _reg_runs(GOOD_REG), "default")
    assert res.status == PASS and all(g["status"] == PASS for g in res.gates)
    assert res.negative_control["status"] == CAUGHT
    helps = _reg_runs({**GOOD_REG, "one_pass": {1e-4: -0.0005, 1e-3: -0.05, 1e-2: 0.2}})
    assert evaluate_claim(_claim("l2_one_pass"), helps, "default").status == FAIL
    # seed noise too large to resolve 0.02 nats: inconclusive, not a pass
    noisy = _reg_runs(GOOD_REG, noise=0.05)
    out = evaluate_claim(_claim("l2_one_pass"), noisy, "default")
    assert out.status == INCONCLUSIVE and any(g["id"] == "l2_resolution" and g["status"] == FAIL for g in out.gates)
    # the best λ > 0 at the grid's top: a larger λ might help, inconclusive
    top = _reg_runs({**GOOD_REG, "one_pass": {1e-4: 0.01, 1e-3: 0.005, 1e-2: 0.001}})
    out = evaluate_claim(_claim("l2_one_pass"), top, "default")
    assert out.status == INCONCLUSIVE and any(g["id"] == "l2_grid_top" and g["status"] == FAIL for g in out.gates)
    # two seeds: inconclusive
    assert evaluate_claim(_claim("l2_one_pass"), _reg_runs(GOOD_REG, seeds=(0, 1)), "default").status == INCONCLUSIVE


def test_l2_multi_epoch_passes_and_its_zero_l2_control_is_caught() -> None:
    res = evaluate_claim(_claim("l2_multi_epoch"), _reg_runs(GOOD_REG), "default")
    assert res.status == PASS and res.gates[0]["status"] == PASS and res.measured < -0.4
    assert res.negative_control["status"] == CAUGHT and res.negative_control["value"] == pytest.approx(0.0)
    no_help = _reg_runs({**GOOD_REG, "multi_epoch": {1e-4: 0.001, 1e-3: 0.002, 1e-2: 0.05}})
    assert evaluate_claim(_claim("l2_multi_epoch"), no_help, "default").status == FAIL
