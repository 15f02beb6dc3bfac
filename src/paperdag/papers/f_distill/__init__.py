"""f-distill (Xu, Nie & Vahdat 2025, arXiv 2502.15681): one-step diffusion distillation by
f-divergence distribution matching.

The student's gradient is the fake-minus-teacher denoiser difference weighted per sample by
h(r) = f''(r)·r², with r = p_teacher/q_student estimated by a GAN discriminator. Reverse-KL
(h ≡ 1) is VSD/DMD; forward-KL, JS, squared Hellinger, softened RKL and Jeffreys follow.

Public functions (imported lazily so that `spec` stays cheap at DAG-build time):
`weighting(name, r)`, `normalised_weights(...)`, `inception_features(...)`.
"""

from typing import Any

_PUBLIC = {
    "weighting": "divergences",
    "normalised_weights": "divergences",
    "DIVERGENCES": "divergences",
    "inception_features": "inception",
    "load_inception": "inception",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(name)
