"""The SDPI experiment: measured KL contraction of noisy tanh layers against the coefficients.

For each channel and setting, random pairs (P, Q) of input laws on a finite support are
pushed through the exact channel kernel and the largest ratio D(PK‖QK)/D(P‖Q) is recorded:
- on a *generic* support (Gaussian points), where every mask gives distinct outputs and the
  dropout/DropConnect bounds are attained (protocol §2.3 observed equality);
- on the *binary* support {±1}^{d_in} (dropout only), where masks collide and the ratio is smaller.
The refined bound D_L ≤ (Π_k η_k)·D_0 is checked exactly on chains of dropout layers, and
Π_k η_k is tabulated for the testbed architectures (a table only: more factors, each ≤ 1, contract
more by construction; the paper's "deeper yet narrower" result is checked on the Gibbs example).
"""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from paperdag.papers.it_bounds.sdpi import (
    compose,
    contraction_ratios,
    dropconnect_eta,
    dropconnect_kernel,
    dropout_eta,
    dropout_kernel,
    kl,
    noise_eta,
    noise_mixture_kl,
    random_pairs,
)
from paperdag.papers.it_bounds.testbed import hidden_widths


def _case(**kw: Any) -> dict[str, Any]:
    ratios = kw.pop("ratios")
    eta = kw["eta"]
    return {**kw, "max_ratio": float(ratios.max()), "mean_ratio": float(ratios.mean()),
            "max_excess": float((ratios - eta).max()), "pairs": int(len(ratios))}


def dropout_cases(cfg: dict[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for p, d_in in itertools.product(cfg["drop_probs"], cfg["dropout_inputs"]):
        weight = rng.standard_normal((cfg["dropout_outputs"], d_in))
        supports = {"generic": rng.standard_normal((cfg["support"], d_in)),
                    "binary": np.array(list(itertools.product((-1.0, 1.0), repeat=d_in)))}
        for name, support in supports.items():
            kernel, _ = dropout_kernel(support, weight, p)
            ratios = contraction_ratios(kernel, random_pairs(rng, cfg["pairs"], len(support)))
            out.append(_case(channel="dropout", support=name, p=p, d_in=d_in, d_out=cfg["dropout_outputs"],
                             width=d_in, eta=dropout_eta(p, d_in), ratios=ratios))
    return out


def dropconnect_cases(cfg: dict[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for p, (d_in, d_out) in itertools.product(cfg["drop_probs"], cfg["dropconnect_shapes"]):
        weight = rng.standard_normal((d_out, d_in))
        support = rng.standard_normal((cfg["support"], d_in))
        kernel, _ = dropconnect_kernel(support, weight, p)
        ratios = contraction_ratios(kernel, random_pairs(rng, cfg["pairs"], len(support)))
        out.append(_case(channel="dropconnect", support="generic", p=p, d_in=d_in, d_out=d_out, width=d_in * d_out,
                         eta=dropconnect_eta(p, d_in, d_out), ratios=ratios))
    return out


def noise_cases(cfg: dict[str, Any], rng: np.random.Generator) -> list[dict[str, Any]]:
    out = []
    for beta, d_out in itertools.product(cfg["noise_betas"], cfg["noise_outputs"]):
        weight = rng.standard_normal((d_out, cfg["noise_inputs"]))
        centres = np.tanh(rng.standard_normal((cfg["support"], cfg["noise_inputs"])) @ weight.T)
        pairs = random_pairs(rng, cfg["pairs"], cfg["support"])
        ratios = noise_mixture_kl(centres, pairs, beta) / kl(*pairs)
        out.append(_case(channel="noise", support="generic", beta=beta, d_in=cfg["noise_inputs"], d_out=d_out,
                         width=d_out, eta=noise_eta(beta, d_out), ratios=ratios))
    return out


def refined_cases(cfg: dict[str, Any], rng: np.random.Generator, architectures: dict[str, Any],
                  dims: list[int]) -> list[dict[str, Any]]:
    """Exact D_L against (Π η_k)·D_0 on dropout chains, and Π η_k of the testbed architectures."""
    out = []
    for p, widths in itertools.product(cfg["drop_probs"], cfg["refined_widths"]):
        support = rng.standard_normal((cfg["support"], widths[0]))
        kernels, etas = [], []
        for d_in, d_out in zip(widths[:-1], widths[1:]):
            kernel, support = dropout_kernel(support, rng.standard_normal((d_out, d_in)), p)
            kernels.append(kernel)
            etas.append(dropout_eta(p, d_in))
        pairs = random_pairs(rng, cfg["pairs"], len(kernels[0]))
        d0 = kl(*pairs)
        per_layer = [kl(pairs[0] @ compose(kernels[: k + 1]), pairs[1] @ compose(kernels[: k + 1])) for k in range(len(kernels))]
        d_last = per_layer[-1]
        bound = np.prod(etas) * d0
        increase = max(float((b - a).max()) for a, b in zip([d0, *per_layer[:-1]], per_layer))
        out.append({"channel": "refined", "p": p, "widths": list(widths), "eta_product": float(np.prod(etas)),
                    "max_ratio": float((d_last / d0).max()), "max_excess": float((d_last - bound).max()),
                    "max_layer_increase": increase, "pairs": int(len(d0))})
    for name, spec in architectures.items():
        for d, p in itertools.product(dims, cfg["drop_probs"]):
            widths = [d, *hidden_widths(d, spec["widths"]), 1]
            product = float(np.prod([dropout_eta(p, w) for w in widths[:-1]]))
            out.append({"channel": "architecture", "arch": name, "d": d, "p": p, "widths": widths, "eta_product": product})
    return out


def run_sdpi_checks(cfg: dict[str, Any], seed: int, architectures: dict[str, Any], dims: list[int]) -> dict[str, list]:
    """Every SDPI case, keyed by channel (the four metrics files of the `sdpi` job)."""
    rng = np.random.default_rng([seed, 2404_03176])
    return {"dropout": dropout_cases(cfg, rng), "dropconnect": dropconnect_cases(cfg, rng),
            "noise": noise_cases(cfg, rng), "refined": refined_cases(cfg, rng, architectures, dims)}
