"""The binary Gaussian-mixture (bGMM) simulation of generative data augmentation (numpy only).

Faithful to `ML-GSAI/Understanding-GDA: main_simulation_bGMM.py` and `models/gaussnb.py`
(protocol §2.1, verified against source):

* x | y ~ N(μ_y, σ²I_d) with μ_{0/1} = ∓(1/√d)·1 and balanced labels (`make_blobs` with an
  integer n gives class 0 the remainder, ⌈n/2⌉, and class 1 ⌊n/2⌋).
* The generator is a Gaussian naive Bayes fitted on the m real samples: class means, per-class
  variances (ddof = 1, +1e-9) pooled per dimension by the class priors; it draws γ·m balanced
  samples from N(μ̂_y, diag(pooled variance)).
* The learner is the closed-form NLL minimiser θ = mean over S̃ of (2y−1)·x, with
  NLL(θ; S) = Σ‖x − (2y−1)θ‖² / (2σ²n); the plotted quantity is |NLL(S̃) − NLL(test)|,
  measured against the *augmented* train set S̃ = S ∪ S_G.

Differences from the shipped script, both deliberate: every repeat draws from its own seeded
stream (the script seeds nothing), and the list arguments that crash the script are plain ints.
Within a repeat the real and test samples are shared by every γ (as in the script, which
draws them once per repeat); the generated samples come from a stream keyed by γ as well.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

NB_VAR_EPSILON = 1e-9  # added to each class variance, as `GaussianNB(val_epsilon=1e-9)`


def class_means(d: int) -> np.ndarray:
    """μ_0 = −(1/√d)·1, μ_1 = +(1/√d)·1, shape (2, d)."""
    unit = np.full(d, 1.0 / math.sqrt(d))
    return np.stack([-unit, unit])


def balanced_labels(n: int) -> np.ndarray:
    """The labels `make_blobs(n_samples=n, centers=2)` produces: ⌈n/2⌉ zeros then ⌊n/2⌋ ones."""
    return np.repeat(np.array([0, 1]), [n - n // 2, n // 2])


def sample_blobs(rng: np.random.Generator, n: int, means: np.ndarray, std: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """n balanced samples from N(means[y], diag(std²)); means (2, d), std scalar or (d,)."""
    y = balanced_labels(n)
    x = means[y] + np.asarray(std) * rng.standard_normal((n, means.shape[1]))
    return x, y


def fit_naive_bayes(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian naive Bayes as in `gaussnb.GaussianNB`: class means (…, 2, d) and pooled variance (…, d).

    `x` is (…, n, d) with the same labels `y` (n,) for every leading index, so a whole chunk of
    repeats is fitted at once. Variances use ddof = 1, plus 1e-9, pooled with the class priors.
    """
    means, variances, priors = [], [], []
    for c in (0, 1):
        xc = x[..., y == c, :]
        means.append(xc.mean(axis=-2))
        variances.append(xc.var(axis=-2, ddof=1) + NB_VAR_EPSILON)
        priors.append(xc.shape[-2] / x.shape[-2])
    pooled = priors[0] * variances[0] + priors[1] * variances[1]
    return np.stack(means, axis=-2), pooled


def mean_classifier(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """θ = (1/n)·Σ (2y−1)·x, the minimiser of the NLL below; x (…, n, d) → θ (…, d)."""
    signs = (2 * y - 1).astype(x.dtype)
    return np.einsum("...nd,n->...d", x, signs) / x.shape[-2]


def nll(theta: np.ndarray, x: np.ndarray, y: np.ndarray, sigma: float) -> np.ndarray:
    """Σ‖x − (2y−1)θ‖² / (2σ²n), batched over leading axes: θ (…, d), x (…, n, d) → (…)."""
    signs = (2 * y - 1).astype(x.dtype)
    resid = x - signs[:, None] * theta[..., None, :]
    return (resid**2).sum(axis=(-2, -1)) / (2 * sigma**2 * x.shape[-2])


def zero_one(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0-1 loss of the rule 'predict 1 if θᵀx ≥ 0'; θ (…, d), x (…, n, d) → (…)."""
    pred = (np.einsum("...nd,...d->...n", x, theta) >= 0).astype(int)
    return (pred != y).mean(axis=-1)


def _stream(seed: int, d: int, m: int, repeat: int, *tag: int) -> np.random.Generator:
    """An independent stream for one repeat of one (d, m) cell; `tag` separates real/test from generated."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, d, m, repeat, *tag])))


def simulate_cell(d: int, m: int, gammas: Sequence[int], repeats: int, seed: int, n_test: int,
                  sigma: float = 0.6, max_floats: int = 4_000_000) -> dict[str, np.ndarray]:
    """Run `repeats` repeats of the simulation at (d, m) for every γ; arrays of shape (len(gammas), repeats).

    Returned keys: gap (|NLL train − NLL test|, the plotted quantity), train_nll, test_nll,
    train_err and test_err (0-1 losses). Repeats are processed in chunks, vectorised within a
    chunk; repeat r always uses the same streams, so results do not depend on the chunking.
    """
    if m < 4:
        raise ValueError(f"m = {m}: each class needs at least two samples for the ddof=1 variance")
    mus = class_means(d)
    y_real, y_test = balanced_labels(m), balanced_labels(n_test)
    out = {k: np.empty((len(gammas), repeats)) for k in ("gap", "train_nll", "test_nll", "train_err", "test_err")}
    per_repeat = (n_test + m * (1 + max(gammas))) * d
    chunk = max(1, min(repeats, max_floats // per_repeat))
    for start in range(0, repeats, chunk):
        rs = range(start, min(repeats, start + chunk))
        real, test = [], []
        for r in rs:
            rng = _stream(seed, d, m, r, 0)
            real.append(sample_blobs(rng, m, mus, sigma)[0])
            test.append(sample_blobs(rng, n_test, mus, sigma)[0])
        x_real, x_test = np.stack(real), np.stack(test)
        nb_means, nb_var = fit_naive_bayes(x_real, y_real)
        for j, gamma in enumerate(gammas):
            m_gen = int(gamma * m)
            if m_gen > 0:
                gen = np.stack([sample_blobs(_stream(seed, d, m, r, 1, int(gamma)), m_gen, nb_means[i], np.sqrt(nb_var[i]))[0]
                                for i, r in enumerate(rs)])
                x_aug = np.concatenate([x_real, gen], axis=1)
                y_aug = np.concatenate([y_real, balanced_labels(m_gen)])
            else:
                x_aug, y_aug = x_real, y_real
            theta = mean_classifier(x_aug, y_aug)
            train_nll, test_nll = nll(theta, x_aug, y_aug, sigma), nll(theta, x_test, y_test, sigma)
            sl = slice(rs.start, rs.stop)
            out["gap"][j, sl] = np.abs(train_nll - test_nll)
            out["train_nll"][j, sl], out["test_nll"][j, sl] = train_nll, test_nll
            out["train_err"][j, sl] = zero_one(theta, x_aug, y_aug)
            out["test_err"][j, sl] = zero_one(theta, x_test, y_test)
    return out


def simulate_gap(d: int, m: int, gamma: int, repeats: int, seed: int, n_test: int = 2000,
                 sigma: float = 0.6) -> tuple[float, float]:
    """Mean NLL generalisation gap over `repeats` repeats and its standard error."""
    gaps = simulate_cell(d, m, [gamma], repeats, seed, n_test, sigma)["gap"][0]
    return float(gaps.mean()), float(gaps.std(ddof=1) / math.sqrt(repeats)) if repeats > 1 else float("nan")


def theory_bound(d: int, m: int, gamma: float) -> float:
    """The paper's bGMM bound, as `plot.ipynb` cell 3 evaluates it (protocol §2.1).

    M = d + log m, m_T = (1+γ)m, β = M/m_T; TV = τ = 1 for d > 2, otherwise
    TV = √(d·log d/m) and τ = √(γd/m)·log(md). The log(γm) term is dropped at γ = 0.
    """
    M = d + math.log(m)
    beta = M / ((1 + gamma) * m)
    if d > 2:
        tv, tau = 1.0, 1.0
    else:
        tv = math.sqrt(d / m * math.log(d))
        tau = math.sqrt(gamma * d / m) * math.log(m * d)
    log_terms = math.log(m) + (math.log(gamma * m) if gamma > 0 else 0.0)
    return (gamma / (1 + gamma) * M * tv
            + M * (1 + math.sqrt(gamma)) / ((1 + gamma) * math.sqrt(m))
            + math.sqrt(gamma * m) * beta / (1 + gamma)
            + beta * log_terms / (1 + gamma)
            + math.log(m) * M * tau / (1 + gamma))


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log y against log x (the learning rate's exponent)."""
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])
