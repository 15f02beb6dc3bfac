"""Information-theoretic generalisation bounds for DNNs (He & Goldfeld, arXiv 2404.03176, IEEE TIT 2025).

A theory paper: its results are analytic. This package computes, for a binary-Gaussian
testbed with linear networks whose first layer is learned, the per-layer KL terms D_l, the
hierarchical KL bound (joint and per-W), the W1 bound and the generalisation funnel, the
exact generalisation error, and the SDPI coefficients of Dropout, DropConnect and Gaussian
noise with an exact-enumeration check. The paper's finite-parameter Gibbs example (binary-weight
dropout networks, O(1/n), deeper-narrower against wider-shallower) is enumerated exactly in `gibbs`.

Public functions (imported lazily so that `spec` stays cheap at DAG-build time):
`kl_per_layer`, `true_gen_error`, `layer_maps`, `make_network`, `dropout_eta`,
`dropconnect_eta`, `noise_eta`.
"""
from typing import Any

_PUBLIC = {
    "kl_per_layer": "testbed", "true_gen_error": "testbed", "layer_maps": "testbed", "make_network": "testbed",
    "dropout_eta": "sdpi", "dropconnect_eta": "sdpi", "noise_eta": "sdpi",
}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(name)
