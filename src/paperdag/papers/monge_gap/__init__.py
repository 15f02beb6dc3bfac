"""The Monge gap (Uscidda & Cuturi, ICML 2023): regularising neural OT maps toward c-optimality.

Public functions (imported lazily so that `spec` stays cheap at DAG-build time):
`monge_gap`, `exact_monge_gap`, `gaussian_ot_map`.
"""
from typing import Any

_PUBLIC = {"monge_gap": "ot", "exact_monge_gap": "ot", "gaussian_ot_map": "ot", "entropic_ot_cost": "ot"}


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_PUBLIC[name]}"), name)
    raise AttributeError(name)
