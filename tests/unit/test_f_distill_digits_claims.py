"""The digits claim of f-distill: it passes on converged students where forward-KL and JS beat
reverse-KL, fails on its negative control (reverse-KL's own runs, seeds rotated), and is
inconclusive on a student still learning or where the real-vs-real floor does not resolve the
students; KID is unbiased (≈ 0 between two samples of one distribution) and sees a shift; the
teacher's Heun sampler reproduces a known Gaussian."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import yaml

from paperdag.claims import CAUGHT, FAIL, INCONCLUSIVE, PASS, REPORT, evaluate_claims
from paperdag.config import resolve_paper
from paperdag.metrics import kernel_distance
from paperdag.papers.f_distill.claims import claims
from paperdag.papers.f_distill.edm import heun_sample
from paperdag.stage import PROJECT_ROOT

CFG = resolve_paper(yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text()), "f_distill", "default")
STEPS = [0, 200, 400, 600, 800, 1000]


def _curve(final: float, moving: bool = False) -> dict:
    tail = [final * 1.5, final] if moving else [final * 1.01, final]
    val = [400.0, 100.0, 40.0, final * 1.6, *tail]
    return {"step": STEPS, "train_loss": [1.0] * 6, "val_step": STEPS, "val": val}


def digits_runs(fd: dict[str, list[float]], floor_fd: float = 1.0, moving: str = "") -> pd.DataFrame:
    rows = []
    for div, values in fd.items():
        for seed, v in enumerate(values):
            rows.append(
                dict(
                    task="digits",
                    init="normal",
                    divergence=div,
                    seed=seed,
                    fd_digits=v,
                    fd_digits_tail=v,
                    kid=0.01,
                    class_tv=0.05,
                    precision=0.8,
                    recall=0.7,
                    n_eval=800,
                    n_kid=32,
                    curve=_curve(v, div == moving),
                    floor_fd_digits=floor_fd,
                    floor_kid=0.0,
                    floor_kid_sd=0.01,
                    floor_class_tv=0.02,
                    floor_precision=0.9,
                    floor_recall=0.9,
                    teacher_fd_digits=5.0,
                    teacher_kid=0.005,
                )
            )
    return pd.DataFrame(rows)


GOOD = {"rkl": [20.0, 22.0, 21.0], "kl": [15.0, 16.0, 17.0], "js": [16.0, 18.0, 15.5]}


def results(runs: pd.DataFrame) -> dict:
    return {r.id: r for r in evaluate_claims(claims(CFG), runs, "default")}


def test_digits_claim_passes_on_good_runs_and_its_control_is_caught() -> None:
    r = results(digits_runs(GOOD))["digits_kl_js_beat_rkl"]
    assert r.status == PASS, r.detail
    assert r.negative_control["status"] == CAUGHT, r.negative_control
    assert [g["status"] for g in r.gates] == [PASS, PASS]


def test_digits_claim_fails_when_one_seed_of_js_is_worse() -> None:
    r = results(digits_runs({**GOOD, "js": [16.0, 23.0, 15.5]}))["digits_kl_js_beat_rkl"]
    assert r.status == FAIL, r.detail


def test_digits_claim_is_inconclusive_on_a_moving_curve_or_an_unresolving_floor() -> None:
    r = results(digits_runs(GOOD, moving="rkl"))["digits_kl_js_beat_rkl"]
    assert r.status == INCONCLUSIVE and r.gates[0]["status"] == FAIL
    r = results(digits_runs(GOOD, floor_fd=30.0))["digits_kl_js_beat_rkl"]
    assert r.status == INCONCLUSIVE and r.gates[1]["status"] == FAIL


def test_digits_comparison_reports_teacher_and_floors() -> None:
    r = results(digits_runs(GOOD))["digits_comparison"]
    assert r.status == REPORT
    assert "teacher (Heun)" in r.detail and "real vs real" in r.detail


def test_kid_is_unbiased_near_zero_and_sees_a_shift() -> None:
    rng = np.random.default_rng(0)
    same = [kernel_distance(rng.normal(size=(32, 64)), rng.normal(size=(32, 64))) for _ in range(200)]
    assert abs(np.mean(same)) < 3 * np.std(same) / np.sqrt(len(same))
    shifted = kernel_distance(rng.normal(size=(32, 64)), rng.normal(0.5, 1.0, size=(32, 64)))
    assert shifted > 10 * np.std(same)


def test_heun_sampler_recovers_a_gaussian() -> None:
    """For data N(0, s²) the exact denoiser is D(x, σ) = x·s²/(s² + σ²); Heun samples have std ≈ s."""
    s = 0.5

    def denoiser(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return x * s**2 / (s**2 + sigma.unsqueeze(-1) ** 2)

    x = heun_sample(denoiser, 20000, 2, 40, 0.002, 80.0, torch.Generator().manual_seed(0))
    assert x.shape == (20000, 2)
    assert abs(float(x.std()) - s) < 0.02
