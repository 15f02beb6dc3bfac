"""CS-IB: Cauchy–Schwarz divergence information bottleneck for regression (Yu et al., ICLR 2024).

Public functions (imported lazily so that `spec` stays cheap at DAG-build time):
`cs_divergence(x, y, y_hat, sigma)` (the conditional CS divergence, the prediction term)
and `cs_qmi(x, t, sigma, normalized=True)` (the CS quadratic mutual information, the
compression term). Protocol: shared/papers/cs_ib.md.
"""

from typing import Any

_PUBLIC = {
    "cs_divergence": "estimators",
    "cs_qmi": "estimators",
    "gaussian_gram": "estimators",
    "cs_divergence_unconditional": "estimators",
    "kernel_means": "estimators",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(name)
