"""The pure-Python parts of tools/bench/monge_gap_vs_ott.py (no jax, no network, no training)."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "tools" / "bench" / "monge_gap_vs_ott.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("monge_gap_vs_ott", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_parse_sizes(bench):
    assert bench.parse_sizes("16x128,8x256") == [(16, 128), (8, 256)]
    assert bench.parse_sizes(" 2X64 ") == [(2, 64)]
    for bad in ["16", "16x", "x128", "0x128", "16x1", "16x128;8x256", "ax b"]:
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_sizes(bad)


def test_parse_scalings(bench):
    assert bench.parse_scalings("0.8,0.9") == [0.8, 0.9]
    assert bench.parse_scalings("") == []
    for bad in ["1.0", "0", "-0.5", "a"]:
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_scalings(bad)


def test_parse_args_defaults_and_errors(bench):
    args = bench.parse_args([])
    assert args.sizes == [(16, 128), (8, 256)] and args.seeds == [0, 1, 2] and args.repeats == 3
    assert bench.parse_args(["--seeds", "4,5", "--steps", "7"]).seeds == [4, 5]
    assert bench.parse_args(["--ott-thresholds", "1e-2,0.1"]).ott_thresholds == [0.01, 0.1]
    assert bench.parse_args(["--extra-scalings", "0.9"]).extra_scalings == [0.9]
    with pytest.raises(SystemExit):
        bench.parse_args(["--steps", "0"])


def test_per_model_step_and_summary(bench):
    assert bench.per_model_step(6.0, 100, 3) == pytest.approx(0.02)
    with pytest.raises(ValueError):
        bench.per_model_step(1.0, 0, 3)
    assert bench.summarize({"a": [3.0, 1.0, 2.0], "b": [5.0]}) == {"a": 2.0, "b": 5.0}


def test_format_ratio_names_the_faster_side(bench):
    assert bench.format_ratio(0.30, 0.06) == "5.00× (paperdag faster)"
    assert bench.format_ratio(0.02, 0.04) == "0.50× (ott-jax faster)"
    assert bench.relative_error(1.1, 1.0) == pytest.approx(0.1)


def test_default_venv_is_outside_the_repository(bench, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert bench.default_venv() == tmp_path / "paperdag-ott-venv"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert bench.default_venv() == Path("/tmp/paperdag-ott-venv")


def test_reference_solver_matches_a_closed_form(bench):
    """Two single points: OT_ε is the cost itself (the only coupling), whatever ε."""
    torch = pytest.importorskip("torch")
    x, y = torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])
    assert bench.reference_ot(x, y, 0.01) == pytest.approx(12.5, rel=1e-12)


def test_parse_threshold_pairs(bench):
    assert bench.parse_threshold_pairs("1e-1:1e-3, 3e-2:1e-3") == [(0.1, 0.001), (0.03, 0.001)]
    for bad in ["1e-1", "1e-1:0", "a:b", "1:2:3"]:
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_threshold_pairs(bad)


def test_matched_accuracy_takes_the_fastest_ott_side_accurate_on_both(bench):
    def errs(s: float, mg: float) -> dict:
        return {"sinkhorn_divergence_rel_err": s, "monge_gap_rel_err": mg}

    res = {
        "median_s": {"paperdag_fused": 0.01, "ott": 0.12, "ott_tol0.1": 0.02, "ott_fit0.1_mg0.001": 0.03},
        "accuracy": {
            "paperdag_fused": errs(1e-2, 3e-4),
            "ott": errs(2e-6, 1e-4),
            "ott_tol0.1": errs(4e-3, 3e-2),  # faster, but worse on the Monge gap: not a match
            "ott_fit0.1_mg0.001": errs(4e-3, 1e-4),
        },
    }
    (line,) = bench.matched_accuracy(res)
    assert "ott_fit0.1_mg0.001" in line and "3.00×" in line
    res["accuracy"]["paperdag_fused"] = errs(1e-7, 1e-7)  # more accurate than every ott side
    (line,) = bench.matched_accuracy(res)
    assert "no ott side" in line
