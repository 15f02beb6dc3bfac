"""On gauge freedom, conservativity and intrinsic dimensionality estimation in diffusion models
(Horvat & Pfister, ICLR 2024).

Public functions (imported lazily so that `spec` stays cheap at DAG-build time):
`estimate_intrinsic_dimension(score_fn, base_points, sigma)` and `sphere_score(x, k, sigma)`.
"""

from typing import Any

_PUBLIC = {"estimate_intrinsic_dimension": "estimators", "sphere_score": "analytic"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(name)
