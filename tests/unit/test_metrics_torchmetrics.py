"""paperdag.metrics against torchmetrics' FID and KID, a maintained implementation of the same
estimators, on the same features (torchmetrics comes with Lightning).

torchmetrics takes a custom feature extractor: an identity "extractor" compares the two
estimators on given features, and the project's offline Inception (f_distill's weights, if
installed) compares the whole image path.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from paperdag.metrics import frechet_distance, kernel_distance

FrechetInceptionDistance = pytest.importorskip("torchmetrics.image.fid").FrechetInceptionDistance
KernelInceptionDistance = pytest.importorskip("torchmetrics.image.kid").KernelInceptionDistance


class _Given(nn.Module):
    """A feature 'extractor' that returns its input: the metric sees exactly these features."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = num_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def _features(seed: int, n: int, d: int, shift: float) -> np.ndarray:
    mix = np.random.default_rng(99).normal(size=(d, d)) / np.sqrt(d)  # one law for every seed, up to the shift
    return np.random.default_rng(seed).normal(size=(n, d)) @ mix + shift


@pytest.mark.parametrize("n, d", [(400, 16), (24, 64)])  # more rows than dimensions, and fewer (low-rank path)
def test_frechet_distance_matches_torchmetrics_fid(n, d):
    a, b = _features(0, n, d, 0.0), _features(1, n, d, 0.3)
    fid = FrechetInceptionDistance(feature=_Given(d), normalize=True)
    fid.update(torch.tensor(a, dtype=torch.float64), real=True)
    fid.update(torch.tensor(b, dtype=torch.float64), real=False)
    ours = frechet_distance(a, b)
    assert ours == pytest.approx(float(fid.compute()), rel=1e-4, abs=1e-6)
    assert ours > 1.0  # the shift is seen: the comparison is not of two zeros


def test_kernel_distance_matches_torchmetrics_kid():
    n, d = 60, 32
    a, b = _features(2, n, d, 0.0), _features(3, n, d, 0.5)
    kid = KernelInceptionDistance(feature=_Given(d), subsets=1, subset_size=n, normalize=True)
    kid.update(torch.tensor(a, dtype=torch.float64), real=True)
    kid.update(torch.tensor(b, dtype=torch.float64), real=False)
    mean, _ = kid.compute()  # one subset of all n points: every pair, as ours
    ours = kernel_distance(a, b)
    assert ours == pytest.approx(float(mean), rel=1e-6, abs=1e-9)
    assert ours > 10 * abs(kernel_distance(a, _features(4, n, d, 0.0)))  # a shift is far above same-law noise


def test_inception_path_matches_torchmetrics_with_the_project_weights():
    from paperdag.papers.f_distill.inception import inception_features, load_inception, weights_path

    try:
        weights_path("auto")
    except FileNotFoundError as err:
        pytest.skip(f"Inception weights not installed: {err}")
    torch.set_num_threads(1)
    net = load_inception("auto")

    class _Inception(nn.Module):
        num_features = 2048

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return torch.as_tensor(inception_features(net, images))

    gen = torch.Generator().manual_seed(0)
    real = torch.rand(12, 8, 8, generator=gen) * 2 - 1
    fake = (torch.rand(12, 8, 8, generator=gen) * 2 - 1).clamp(-0.5, 1.0)
    fid = FrechetInceptionDistance(feature=_Inception(), normalize=True)
    fid.update(real, real=True)
    fid.update(fake, real=False)
    ours = frechet_distance(inception_features(net, real), inception_features(net, fake))
    assert ours == pytest.approx(float(fid.compute()), rel=1e-3)
