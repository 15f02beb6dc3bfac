"""Data manifolds, their exact VE scores, a 2-D Gaussian mixture, and the two gauge terms.

VE noise: p_σ = p_data * N(0, σ²I). All analytic scores work in float64 torch and are
differentiable by autograd (the Bessel ratio has an analytic backward), so the same
Jacobian code serves exact and trained scores.

- `sphere_score(x, k, σ)`: uniform unit k-sphere in the first k+1 coordinates of R^D
  (protocol §2.5, derived and checked numerically): ∇log p = −x/σ² + R_ν(κ)·x_∥/(σ²ρ),
  ρ = ‖x_∥‖, κ = ρ/σ², ν = (k−1)/2, R_ν = I_{ν+1}/I_ν (scipy `ive`).
- Flat torus (cos θ, sin θ, cos φ, sin φ): a product of two unit circles, so its score
  is −x/σ² plus one circle correction per coordinate pair.
- Universal gauge (protocol §2.3): r = c·J·∇log p with J constant and skew; ∇·(p r) = 0.
- ID-corrupting gauge (protocol §2.4): r = (c/σ²)·J_∥·x, J_∥ skew inside the sphere's
  (k+1)-D subspace; ∇·(p r) = 0 because p_σ is rotation-invariant there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import special

MANIFOLD_DIMS = {"sphere": 2, "torus": 2, "swiss_roll": 2}  # plus "sphere<k>" (e.g. sphere10): the unit k-sphere
NATIVE_DIMS = {"sphere": 3, "torus": 4, "swiss_roll": 3}


def manifold_dim(name: str) -> int:
    """Intrinsic dimension k of a named manifold ("sphere" is S², "sphere10" is S¹⁰)."""
    if name.startswith("sphere") and name[6:].isdigit():
        return int(name[6:])
    return MANIFOLD_DIMS[name]


def native_dim(name: str) -> int:
    return manifold_dim(name) + 1 if name.startswith("sphere") else NATIVE_DIMS[name]


# --------------------------------------------------------------------------- Bessel ratio
class _BesselRatio(torch.autograd.Function):
    """R_ν(κ) = I_{ν+1}(κ)/I_ν(κ), with dR/dκ = 1 − R² − (2ν+1)R/κ."""

    @staticmethod
    def forward(ctx, kappa: torch.Tensor, nu: float) -> torch.Tensor:  # type: ignore[override]
        k = kappa.detach().cpu().double().numpy()
        ratio = torch.as_tensor(special.ive(nu + 1.0, k) / special.ive(nu, k), dtype=kappa.dtype, device=kappa.device)
        ctx.save_for_backward(kappa, ratio)
        ctx.nu = nu
        return ratio

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        kappa, ratio = ctx.saved_tensors
        deriv = 1.0 - ratio**2 - (2.0 * ctx.nu + 1.0) * ratio / kappa
        return grad * deriv, None


def bessel_ratio(kappa: torch.Tensor, nu: float) -> torch.Tensor:
    return _BesselRatio.apply(kappa.clamp_min(1e-12), float(nu))


def _sphere_correction(block: torch.Tensor, k: int, sigma: float | torch.Tensor) -> torch.Tensor:
    """R_ν(ρ/σ²)·x_∥/(σ²ρ): the part of the k-sphere score that pulls x_∥ onto the sphere."""
    rho = block.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    sigma2 = torch.as_tensor(sigma, dtype=block.dtype) ** 2
    return bessel_ratio(rho / sigma2, (k - 1) / 2.0) * block / (sigma2 * rho)


def sphere_score(x: torch.Tensor, k: int, sigma: float) -> torch.Tensor:
    """Exact score of the uniform unit k-sphere in the first k+1 coordinates of R^D under VE noise σ."""
    x = torch.as_tensor(x)
    out = -x / sigma**2
    corr = _sphere_correction(x[..., : k + 1], k, sigma)
    return torch.cat([out[..., : k + 1] + corr, out[..., k + 1 :]], dim=-1)


def sphere_log_density(x: np.ndarray, k: int, sigma: float) -> np.ndarray:
    """log p_σ(x) up to a constant: −‖x‖²/(2σ²) + log I_ν(κ) − ν log κ (used by the tests)."""
    rho = np.maximum(np.linalg.norm(x[..., : k + 1], axis=-1), 1e-12)
    kappa, nu = rho / sigma**2, (k - 1) / 2.0
    return -(x**2).sum(-1) / (2 * sigma**2) + np.log(special.ive(nu, kappa)) + kappa - nu * np.log(kappa)


def torus_score(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Exact score of the flat torus (cos θ, sin θ, cos φ, sin φ) in the first 4 coordinates of R^D."""
    out = -x / sigma**2
    c1 = _sphere_correction(x[..., 0:2], 1, sigma)
    c2 = _sphere_correction(x[..., 2:4], 1, sigma)
    return torch.cat([out[..., 0:2] + c1, out[..., 2:4] + c2, out[..., 4:]], dim=-1)


# --------------------------------------------------------------------------- manifolds
def random_isometry(dim: int, seed: int) -> np.ndarray:
    """A (dim × dim) orthogonal matrix from the QR of a seeded Gaussian matrix (sign-fixed)."""
    a = np.random.default_rng(seed).standard_normal((dim, dim))
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diag(r))


def _swiss_roll_native(n: int, seed: int) -> np.ndarray:
    from sklearn.datasets import make_swiss_roll

    pts, _ = make_swiss_roll(n_samples=n, noise=0.0, random_state=seed)
    return pts


_SWISS_ROLL_NORM: tuple[np.ndarray, float] | None = None


def _swiss_roll_normaliser() -> tuple[np.ndarray, float]:
    """Centre and scale of sklearn's Swiss roll (range ≈ ±12), from a fixed large draw: RMS radius → 1."""
    global _SWISS_ROLL_NORM
    if _SWISS_ROLL_NORM is None:
        ref = _swiss_roll_native(200_000, 0)
        mean = ref.mean(0)
        _SWISS_ROLL_NORM = (mean, float(np.sqrt(((ref - mean) ** 2).sum(1).mean())))
    return _SWISS_ROLL_NORM


def sample_native(name: str, n: int, seed: int) -> np.ndarray:
    """n points of a manifold in its native space (sphere R³, torus R⁴, rescaled Swiss roll R³)."""
    rng = np.random.default_rng(seed)
    if name.startswith("sphere"):
        g = rng.standard_normal((n, native_dim(name)))
        return g / np.linalg.norm(g, axis=1, keepdims=True)
    if name == "torus":
        th, ph = rng.uniform(0, 2 * np.pi, (2, n))
        return np.stack([np.cos(th), np.sin(th), np.cos(ph), np.sin(ph)], axis=1)
    if name == "swiss_roll":
        mean, scale = _swiss_roll_normaliser()
        return (_swiss_roll_native(n, seed) - mean) / scale
    raise KeyError(f"unknown manifold {name!r}")


@dataclass(frozen=True)
class Manifold:
    """A manifold embedded in R^D by a random isometry U: x = U[:, :a]·y."""

    name: str
    ambient: int
    embed_seed: int

    @property
    def k(self) -> int:
        return manifold_dim(self.name)

    @property
    def rotation(self) -> np.ndarray:
        return random_isometry(self.ambient, self.embed_seed)

    def sample(self, n: int, seed: int) -> np.ndarray:
        y = sample_native(self.name, n, seed)
        return y @ self.rotation[:, : y.shape[1]].T

    @property
    def native(self) -> int:
        return native_dim(self.name)

    @property
    def has_exact_score(self) -> bool:
        return self.name.startswith("sphere") or self.name == "torus"

    def exact_score(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """Exact VE score at noise σ (sphere and torus only), in the embedded coordinates."""
        u = torch.as_tensor(self.rotation, dtype=x.dtype)
        native = x @ u
        if self.name.startswith("sphere"):
            s = sphere_score(native, self.k, sigma)
        elif self.name == "torus":
            s = torus_score(native, sigma)
        else:
            raise ValueError(f"no exact score for {self.name!r}")
        return s @ u.T

    def subspace_skew(self, seed: int) -> torch.Tensor:
        """J_∥: a unit-norm skew matrix generating rotations that leave p_σ invariant.

        Sphere: any skew matrix inside its 3-D subspace (the density is O(3)-invariant there).
        Torus: the two circle rotations, one per coordinate pair (only those leave it invariant).
        """
        a = native_dim(self.name)
        if self.name.startswith("sphere"):
            j = skew_matrix(a, seed).numpy()
        elif self.name == "torus":
            rot = np.array([[0.0, -1.0], [1.0, 0.0]])
            j = np.block([[rot, np.zeros((2, 2))], [np.zeros((2, 2)), rot]])
        else:
            raise ValueError(f"no invariance-preserving gauge for {self.name!r}")
        full = np.zeros((self.ambient, self.ambient))
        full[:a, :a] = j
        u = self.rotation
        return torch.as_tensor(u @ full @ u.T)


def curved_blocks(name: str) -> list[tuple[int, int]]:
    """The native coordinate blocks whose radial direction is a curved normal: the sphere's (k+1)-D
    block, the torus's two circle planes."""
    if name.startswith("sphere"):
        return [(0, native_dim(name))]
    if name == "torus":
        return [(0, 2), (2, 4)]
    raise ValueError(f"no closed-form curved normals for {name!r}")


def normal_damped(m: Manifold, score_fn, scale: float):
    """A score whose component along each curved normal (radial in its block) is scaled by `scale`.

    A negative control: what a model that has learned the manifold's linear span but only part of
    its curvature looks like (the trained models' failure in issue 22). Differentiable (autograd).
    """
    u = torch.as_tensor(m.rotation)
    blocks = curved_blocks(m.name)

    def damped(x: torch.Tensor, sigma: float) -> torch.Tensor:
        rot = u.to(x.dtype)
        native, s = x @ rot, score_fn(x, sigma) @ rot
        parts, last = [], 0
        for lo, hi in blocks:
            b, sb = native[..., lo:hi], s[..., lo:hi]
            r = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
            parts += [s[..., last:lo], sb - (1.0 - scale) * (sb * r).sum(-1, keepdim=True) * r]
            last = hi
        return torch.cat([*parts, s[..., last:]], dim=-1) @ rot.T

    return damped


def rms_radius(x: np.ndarray) -> float:
    """sqrt(E‖x − E x‖²): the data scale that fixes σ* = factor × RMS radius."""
    return float(np.sqrt(((x - x.mean(0)) ** 2).sum(1).mean()))


# --------------------------------------------------------------------------- gauges
def skew_matrix(dim: int, seed: int) -> torch.Tensor:
    """A seeded skew-symmetric matrix with spectral norm 1 (in 2-D: the 90° rotation)."""
    if dim == 2:
        return torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
    a = np.random.default_rng(seed).standard_normal((dim, dim))
    j = a - a.T
    return torch.as_tensor(j / np.linalg.norm(j, 2))


def universal_gauge(score_fn, c: float, j: torch.Tensor):
    """s̃ = (I + cJ)·s: exact sampling is kept (∇·(p·cJ∇log p) = c·tr(J∇²p) = 0), conservativity is lost."""

    def gauged(x: torch.Tensor, sigma: float) -> torch.Tensor:
        s = score_fn(x, sigma)
        return s + c * s @ j.to(s.dtype).T

    return gauged


def symmetric_partner(j: torch.Tensor) -> torch.Tensor:
    """A symmetric, traceless matrix of J's norm (2-D: [[0, 1], [1, 0]]): c·M∇log p has the gauge's
    form and size but ∇·(p M∇log p) = tr(M∇²p) ≠ 0, so it is not a gauge (the gauge claims' control)."""
    m = j.abs() if j.shape[-1] == 2 else (j @ j.T - torch.trace(j @ j.T) / j.shape[-1] * torch.eye(j.shape[-1], dtype=j.dtype))
    return m / torch.linalg.matrix_norm(m, 2)


def id_corrupting_gauge(score_fn, c: float, j_par: torch.Tensor):
    """s̃ = s + (c/σ²)·J_∥·x: a valid gauge for rotation-invariant p_σ that adds tangent variance c/σ."""

    def gauged(x: torch.Tensor, sigma: float) -> torch.Tensor:
        return score_fn(x, sigma) + (c / sigma**2) * x @ j_par.to(x.dtype).T

    return gauged


# --------------------------------------------------------------------------- 2-D Gaussian mixture
@dataclass(frozen=True)
class GaussianMixture:
    """Isotropic Gaussian mixture; under VE noise component i becomes N(μ_i, (τ_i² + σ²)I)."""

    means: tuple[tuple[float, ...], ...]
    stds: tuple[float, ...]
    weights: tuple[float, ...]

    def _params(self, dtype=torch.float64):
        mu = torch.tensor(self.means, dtype=dtype)
        w = torch.tensor(self.weights, dtype=dtype)
        return mu, torch.tensor(self.stds, dtype=dtype), w / w.sum()

    def _log_components(self, x: torch.Tensor, sigma) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, tau, w = self._params(x.dtype)
        var = tau**2 + torch.as_tensor(sigma, dtype=x.dtype) ** 2
        d = x.shape[-1]
        sq = ((x[..., None, :] - mu) ** 2).sum(-1)
        logc = torch.log(w) - 0.5 * sq / var - 0.5 * d * torch.log(2 * math.pi * var)
        return logc, mu, var

    def log_density(self, x: torch.Tensor, sigma) -> torch.Tensor:
        return torch.logsumexp(self._log_components(x, sigma)[0], dim=-1)

    def score(self, x: torch.Tensor, sigma) -> torch.Tensor:
        """Σ_i π_i(x)·(μ_i − x)/(τ_i² + σ²), with responsibilities π_i(x)."""
        logc, mu, var = self._log_components(x, sigma)
        resp = torch.softmax(logc, dim=-1)
        return ((resp / var)[..., None] * (mu - x[..., None, :])).sum(-2)

    def widened(self, factor: float) -> GaussianMixture:
        """The same mixture with every component's standard deviation times `factor` (a control)."""
        return GaussianMixture(self.means, tuple(factor * s for s in self.stds), self.weights)

    def reweighted(self, weights: tuple[float, ...]) -> GaussianMixture:
        """The same components with other mixture weights (a control)."""
        return GaussianMixture(self.means, self.stds, weights)

    def mode_moment_error(self, x: torch.Tensor, sigma: float) -> float:
        """The largest relative error of one component's weight, width or centre in samples `x` of p_σ.

        Each sample goes to its most responsible component; per component, the share of samples
        against π_i, the root-mean-square deviation per coordinate against √(τ_i² + σ²), and the
        distance of the sample mean from μ_i in units of that width. Unlike a Sinkhorn divergence
        against a reference, it resolves components that are 15% too wide as well as wrong weights.
        """
        logc, mu, var = self._log_components(x, sigma)
        comp = logc.argmax(-1)
        w = self._params(x.dtype)[2]
        errors = []
        for i in range(len(w)):
            xi = x[comp == i]
            if len(xi) < 2:
                return float("inf")
            width = torch.sqrt(var[i])
            spread = ((xi - xi.mean(0)) ** 2).mean().sqrt()
            errors += [
                abs(len(xi) / len(x) - float(w[i])) / float(w[i]),
                float(abs(spread - width) / width),
                float(torch.linalg.norm(xi.mean(0) - mu[i]) / width),
            ]
        return max(errors)

    def sample(self, n: int, sigma: float, gen: torch.Generator) -> torch.Tensor:
        mu, tau, w = self._params()
        comp = torch.multinomial(w, n, replacement=True, generator=gen)
        std = torch.sqrt(tau[comp] ** 2 + sigma**2)[:, None]
        return mu[comp] + std * torch.randn(n, mu.shape[1], generator=gen, dtype=torch.float64)
