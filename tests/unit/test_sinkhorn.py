"""paperdag.sinkhorn reproduces geomloss's tensorized Sinkhorn: values and gradients, eager and fused."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from paperdag.sinkhorn import entropic_ot, epsilon_schedule, sinkhorn_divergence, squared_distances


def _clouds(seed: int, b: int = 3, n: int = 64, m: int = 48, d: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(b, n, d, generator=g, dtype=torch.float64)
    return x, 1.5 * torch.randn(b, m, d, generator=g, dtype=torch.float64) + 0.3


def test_squared_distances_match_the_direct_formula():
    x, y = _clouds(0)
    direct = ((x.unsqueeze(-2) - y.unsqueeze(-3)) ** 2).sum(-1)
    assert torch.allclose(squared_distances(x, y), direct, atol=1e-10)


def test_schedule_runs_from_the_diameter_to_the_target():
    eps = epsilon_schedule(10.0, 0.5)
    assert eps[0] == pytest.approx(100.0) and eps[-1] == 1.0
    assert all(a >= b * (1 - 1e-12) for a, b in zip(eps, eps[1:]))
    assert epsilon_schedule(0.3, 0.5) == [1.0, 1.0]  # a diameter below ε: nothing to anneal


@pytest.mark.parametrize("fused", [False, True])
def test_divergence_value_and_gradient_match_geomloss(fused):
    from geomloss import SamplesLoss

    x, y = _clouds(1)
    x_ours, x_ref = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    ours = sinkhorn_divergence(x_ours, y, blur=0.3, scaling=0.5, fused=fused)
    ref = SamplesLoss("sinkhorn", p=2, blur=0.3, scaling=0.5, debias=True, backend="tensorized")(x_ref, y)
    assert torch.allclose(ours, ref, rtol=1e-5, atol=1e-7)
    ours.sum().backward()
    ref.sum().backward()
    assert torch.allclose(x_ours.grad, x_ref.grad, rtol=1e-4, atol=1e-7)


def test_divergence_is_zero_on_identical_clouds_and_positive_apart():
    x, _ = _clouds(2)
    assert float(sinkhorn_divergence(x, x, blur=0.2).abs().max()) < 1e-8
    assert float(sinkhorn_divergence(x, x + 1.0, blur=0.2).min()) > 0.4  # ≈ ½‖shift‖² = 2.5 for d = 5


@pytest.mark.parametrize("fused", [False, True])
def test_entropic_cost_with_per_element_epsilon_matches_geomloss(fused):
    from geomloss import SamplesLoss

    x, y = _clouds(3, n=40, m=40)
    eps = torch.tensor([0.05, 0.5, 2.0], dtype=torch.float64)

    def cost(a, b):
        return 0.5 * squared_distances(a, b)

    x = x.clone().requires_grad_(True)
    ours = entropic_ot(x, y, cost, eps, scaling=0.5, fused=fused)
    ours.sum().backward()
    ratio = float(np.sqrt(max(float((cost(x, y) / eps.reshape(-1, 1, 1)).max()), 1.0)))  # one schedule for the batch
    for k in range(3):
        loss = SamplesLoss("sinkhorn", p=2, blur=1.0, scaling=0.5, debias=False, backend="tensorized", diameter=ratio,
                           cost=lambda a, b, e=eps[k]: cost(a, b) / e)
        x_ref = x[k:k + 1].detach().clone().requires_grad_(True)
        ref = eps[k] * loss(x_ref, y[k:k + 1])[0]
        ref.backward()
        assert float(ours[k]) == pytest.approx(float(ref), rel=1e-6)
        assert torch.allclose(x.grad[k], x_ref.grad[0], rtol=1e-4, atol=1e-8)
