"""The paper's ablation of its two normalisations: each slot's switches reach the student gradient (the
weights h actually used), the ablation's runs and files are declared, and the reported claim reads them
beside the method's own run (and refuses to report without the ablation runs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from paperdag.claims import MissingRuns
from paperdag.config import resolve_paper
from paperdag.nn import BatchedMLP
from paperdag.papers.f_distill import spec
from paperdag.papers.f_distill.claims import normalisation_ablation
from paperdag.papers.f_distill.distill import Discriminator, DistillTask, distill_config
from paperdag.papers.f_distill.divergences import normalised_weights, weighting
from paperdag.papers.f_distill.edm import Denoiser, MixtureTeacher
from paperdag.papers.f_distill.stages import ABLATION
from paperdag.papers.f_distill.summary import ablation_table
from paperdag.papers.f_distill.toy import mixture
from paperdag.stage import PROJECT_ROOT

CONFIG = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())
SMOKE = resolve_paper(CONFIG, "f_distill", "smoke")
DEFAULT = resolve_paper(CONFIG, "f_distill", "default")


def test_batch_mean_normalisation_can_be_switched_off_per_model() -> None:
    r = torch.rand(2, 200, generator=torch.Generator().manual_seed(0)) * 19.9 + 0.1
    h = normalised_weights(["kl", "kl"], r, torch.tensor([True, False]))
    assert float(h[0].mean()) == pytest.approx(1.0, rel=1e-5)
    assert torch.allclose(h[1], weighting("kl", r[1]))  # raw h(r) = r: mean far from 1
    assert abs(float(h[1].mean()) - 1.0) > 1.0


def _task(div: str, norms: list[tuple[bool, bool]]) -> DistillTask:
    tc = SMOKE["toy"]
    dc = distill_config(SMOKE["distill"], tc, data_dim=2)
    seeds = [0] * len(norms)  # one seed: identical weights and draws in every slot
    means, weights = mixture(tc["n_modes"], tc["radius"])
    task = DistillTask(
        dc,
        [div] * len(norms),
        seeds,
        BatchedMLP(seeds, [tc["latent_dim"], 16, 2]),
        Denoiser([1000] * len(norms), 2, [16], tc["sigma_data"]),
        Discriminator([2000] * len(norms), 2, [16], tc["sigma_data"]),
        MixtureTeacher(means, weights, tc["std"]),
        lambda g, n: torch.zeros(n, 2),
        normalisations=norms,
    )
    with torch.no_grad():  # a discriminator with a large, varying logit: r far from 1 and from its bin means
        task.disc.net.layers[-1].bias.fill_(1.5)
        task.disc.net.layers[-1].weight.mul_(20)
    return task


ORDER = ["no_bin", "no_h", "none"]


def _stats(div: str) -> torch.Tensor:
    """(mean r, max h, GAN term) of one student update per slot: the variants in ORDER, then the method."""
    task = _task(div, [ABLATION[v] for v in ORDER] + [(True, True)])
    task.student_loss(task.cfg.fake_warmup)
    return task.last_stats


def test_each_slots_switches_reach_its_weights() -> None:
    st = _stats("js")
    mean_r, max_h = st[:, 0], st[:, 1]
    # with the bin normalisation the ratio averages to 1; without it, r keeps the discriminator's scale (≈ e^1.5)
    assert float(mean_r[3]) == pytest.approx(1.0, abs=1e-4) and float(mean_r[1]) == pytest.approx(1.0, abs=1e-4)
    assert float(mean_r[0]) > 2 and float(mean_r[2]) > 2
    # JS: h = r/(r+1) < 1 unnormalised; the batch-mean normalisation lifts its max above 1
    assert float(max_h[1]) < 1 and float(max_h[2]) < 1 and float(max_h[3]) > 1 and float(max_h[0]) > 1
    assert set(ABLATION) == {"no_bin", "no_h", "none"} and set(DEFAULT["ablation"]["variants"]) <= set(ABLATION)


def test_for_forward_kl_the_h_normalisation_is_a_no_op_after_the_bin_normalisation() -> None:
    """h = r is linear and, at EMA rate 0, the bin-normalised r has batch mean exactly 1: so the ablation runs
    only `no_bin` and `none` for forward-KL (`no_h` would repeat the method)."""
    st = _stats("kl")
    assert torch.allclose(st[1], st[3], rtol=1e-5)  # no_h ≡ both
    assert not torch.allclose(st[2], st[0], rtol=1e-3)  # none ≠ no_bin: h = r unscaled
    assert DEFAULT["distill"]["ratio_ema"] == 0.0
    assert DEFAULT["ablation"]["divergence"] != "kl" or "no_h" not in DEFAULT["ablation"]["variants"]


def test_ablation_runs_are_declared_and_read_by_the_report() -> None:
    files = spec.ablation_files(DEFAULT)
    ab = DEFAULT["ablation"]
    assert len(files) == len(ab["variants"]) * len(DEFAULT["seeds"]) + 1
    assert all(f in spec.inputs(DEFAULT, "report", {}) for f in files)
    assert "figures/ablation.png" in spec.outputs(DEFAULT, "report", {})


def _runs(tv: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for variant, values in tv.items():
        for seed, v in enumerate(values):
            task, div = ("toy", "kl") if variant == "both" else ("toy_ablation", f"kl_{variant}")
            rows.append(
                dict(task=task, init="normal", divergence=div, seed=seed, fd=v, tv=v, coverage=8.0, precision=0.5, recall=1)
            )
    rows.append(dict(task="toy", init="normal", divergence="rkl", seed=0, fd=9.0, tv=9.0, coverage=1.0, precision=0.1, recall=0))
    return pd.DataFrame(rows)


def test_ablation_claim_reports_paired_changes_from_the_method() -> None:
    ab = {"divergence": "kl", "variants": ["no_bin", "no_h", "none"]}
    runs = _runs({"both": [0.1, 0.2, 0.3], "no_bin": [0.1, 0.2, 0.3], "no_h": [0.2, 0.3, 0.4], "none": [0.4, 0.5, 0.9]})
    table = ablation_table(runs, ab).set_index(["variant", "metric"])
    assert table.loc[("none", "tv"), "diff_vs_both"] == pytest.approx(np.mean([0.3, 0.3, 0.6]))
    assert table.loc[("both", "tv"), "diff_vs_both"] == 0 and table.loc[("no_h", "tv"), "n"] == 3
    out = normalisation_ablation(ab)(runs)
    assert out.passed is None and out.measured == pytest.approx(0.4)
    assert "none:" in out.detail and "rkl" not in out.detail  # only the ablated divergence
    with pytest.raises(MissingRuns):  # no ablation runs: nothing to report
        normalisation_ablation(ab)(runs[runs["task"] == "toy"])
