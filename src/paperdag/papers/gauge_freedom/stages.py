"""The gauge-freedom jobs: `analytic` (exact scores, no training), `train` (one manifold × model kind,
seeds batched), `report` (tables, figures, claims)."""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import numpy as np
import torch

from paperdag.io import atomic_path
from paperdag.papers.gauge_freedom import spec
from paperdag.papers.gauge_freedom.analytic import (
    GaussianMixture,
    Manifold,
    id_corrupting_gauge,
    normal_damped,
    rms_radius,
    skew_matrix,
    sphere_log_density,
    symmetric_partner,
    universal_gauge,
)
from paperdag.papers.gauge_freedom.estimators import (
    RULES,
    centred_spectra,
    flow_jacobian_trajectory,
    full_log_gap_rule,
    id_summary,
    non_conservativity,
    normal_ratio,
    ode_log_likelihood,
    perturb,
    pointwise_jacobian,
    sample_ode,
)
from paperdag.runs import write_run
from paperdag.seeding import seed_everything
from paperdag.stage import Job

log = logging.getLogger(__name__)


def _out(job: Job, rel: str) -> str:
    """The declared output whose path ends with `rel`."""
    matches = [p for p in job.outputs if p.endswith(rel)]
    if len(matches) != 1:
        raise KeyError(f"{job.label}: no unique output ending in {rel!r}")
    return matches[0]


def _save_npz(path: str, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def _manifold(cfg: dict[str, Any], name: str) -> Manifold:
    return Manifold(name, cfg["ambient_dim"], cfg["embed_seed"])


def _sigmas(cfg: dict[str, Any], m: Manifold) -> tuple[float, list[tuple[float, float]]]:
    """RMS radius of the data (fixed reference draw) and the (factor, σ) pairs; σ* = star factor × radius."""
    radius = rms_radius(m.sample(cfg["id"]["n_radius"], seed=cfg["id"]["base_seed"] + 1))
    return radius, [(f, f * radius) for f in cfg["id"]["sigma_factors"]]


def _id_entries(
    spectra: np.ndarray,
    k: int,
    variant: str,
    factor: float,
    sigma: float,
    star: float,
    reference: dict[str, np.ndarray] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Summaries of both gap rules for one spectrum set (n_base, D)."""
    entries, estimates = [], {}
    for rule, fn in RULES.items():
        est = fn(spectra)
        estimates[rule] = est
        entry = {
            "variant": variant,
            "rule": rule,
            "sigma_factor": factor,
            "sigma": sigma,
            "is_sigma_star": bool(math.isclose(factor, star)),
            **id_summary(est, k),
        }
        if reference is not None:
            entry["share_changed"] = float((est != reference[rule]).mean())
        entries.append(entry)
    return entries, estimates


# --------------------------------------------------------------------------- analytic
def _gmm(cfg: dict[str, Any]) -> GaussianMixture:
    return GaussianMixture(tuple(map(tuple, cfg["means"])), tuple(cfg["stds"]), tuple(cfg["weights"]))


def _linear_terms(score_fn, mats: torch.Tensor):
    """(V, ..., 2) points → s + A_v·s for each of V matrices A_v: several gauges (or controls) in one batched call."""

    def fn(x: torch.Tensor, sigma: float) -> torch.Tensor:
        s = score_fn(x, sigma)
        shape = (mats.shape[0],) + (1,) * (s.dim() - 3) + mats.shape[1:]
        return s + s @ mats.to(s.dtype).reshape(shape).transpose(-1, -2)

    return fn


def _gmm_logliks(job: Job, gmm: GaussianMixture, ref: torch.Tensor, cs: list[float]) -> dict[str, dict[str, float]]:
    """ODE log-likelihood of held-out points under each gauge c, and under its control for c > 0: the term
    c_ctrl·M∇log p with M symmetric (not a gauge), c_ctrl = control_scale·c (small, so the flow stays tame)."""
    cfg = job.cfg["gmm"]
    j, m_sym = skew_matrix(2, 0), symmetric_partner(skew_matrix(2, 0))
    gauged = [c * j for c in cs]
    controls = [cfg["loglik_control_scale"] * c * m_sym for c in cs if c > 0]
    mats = torch.stack(gauged + controls)
    x0 = ref[: cfg["n_loglik"]]
    end = lambda z: gmm.log_density(z, cfg["sigma_max"])  # noqa: E731
    ll = ode_log_likelihood(
        _linear_terms(gmm.score, mats),
        x0.expand(len(mats), *x0.shape),
        end,
        cfg["sigma_min"],
        cfg["sigma_max"],
        cfg["loglik_steps"],
    )
    exact, ll0 = gmm.log_density(x0, cfg["sigma_min"]), ll[cs.index(0.0)] if 0.0 in cs else None
    out: dict[str, dict[str, float]] = {}
    ctrl = iter(ll[len(cs) :])
    for c, llc in zip(cs, ll[: len(cs)]):
        rec = {"loglik_err_vs_exact_per_dim": float((llc - exact).abs().mean() / 2)}
        if ll0 is not None:
            rec["loglik_diff_vs_c0_per_dim"] = float((llc - ll0).abs().max() / 2)
            if c > 0:
                rec["loglik_diff_control_per_dim"] = float((next(ctrl) - ll0).abs().max() / 2)
                rec["loglik_control_scale"] = cfg["loglik_control_scale"]
        out[f"c{c:g}"] = rec
    return out


def _gmm_runs(job: Job, t0: float) -> dict[str, np.ndarray]:
    """Per seed: the ODE sampler at every gauge strength c (one batched ODE), exact draws and two wrong
    mixtures (the moments claim's controls); Sinkhorn divergence and mode moments of each."""
    from paperdag.metrics import sinkhorn_divergence

    cfg = job.cfg["gmm"]
    gmm = _gmm(cfg)
    j = skew_matrix(2, 0)
    cs = [float(c) for c in cfg["c_values"]]
    figure_samples: dict[str, np.ndarray] = {}
    for seed in cfg["seeds"]:
        gen = torch.Generator().manual_seed(10_000 + seed)
        ref = gmm.sample(cfg["n_reference"], cfg["sigma_min"], gen)
        start = gmm.sample(cfg["n_samples"], cfg["sigma_max"], gen)  # exact draw from p_σmax
        truth = gmm.sample(cfg["n_samples"], cfg["sigma_min"], gen)
        samples_of = {
            "truth": truth,
            "wider": gmm.widened(cfg["controls"]["wider"]).sample(cfg["n_samples"], cfg["sigma_min"], gen),
            "reweighted": gmm.reweighted(tuple(cfg["controls"]["weights"])).sample(cfg["n_samples"], cfg["sigma_min"], gen),
        }
        score = _linear_terms(gmm.score, torch.stack([c * j for c in cs]))
        ode = sample_ode(score, start.expand(len(cs), *start.shape), cfg["sigma_max"], cfg["sigma_min"], cfg["ode_steps"])
        samples_of.update({f"c{c:g}": x for c, x in zip(cs, ode)})
        logliks = _gmm_logliks(job, gmm, ref, cs) if seed in cfg["loglik_seeds"] else {}
        for variant in spec.gmm_variants(job.cfg):
            samples = samples_of[variant]
            metrics: dict[str, Any] = {
                "run_type": "gmm",
                "variant": variant,
                "seed": seed,
                "n_samples": cfg["n_samples"],
                "n_reference": cfg["n_reference"],
                "ode_steps": cfg["ode_steps"],
                **({"c": float(variant[1:])} if variant.startswith("c") else {}),
                **logliks.get(variant, {}),
            }
            sinkhorn = sinkhorn_divergence(samples.float(), ref.float(), blur=cfg["blur"], scaling=cfg["sinkhorn_scaling"])
            metrics["sinkhorn"], metrics["sinkhorn_scaling"] = float(sinkhorn), cfg["sinkhorn_scaling"]
            metrics["mode_moment_error"] = gmm.mode_moment_error(samples, cfg["sigma_min"])
            write_run(_out(job, spec.gmm_run(variant, seed)), metrics, config_hash=job.config_hash, seed=seed, started=t0)
            if seed == cfg["seeds"][0]:
                figure_samples[f"gmm_{variant}"] = samples.numpy()
        if seed == cfg["seeds"][0]:
            figure_samples["gmm_reference"] = ref.numpy()
    return figure_samples


def _divergence_check(job: Job, t0: float) -> None:
    """Finite-difference ∇·(p r) on a 2-D grid, relative to ∇·(p ∇log p) (a non-gauge flux)."""
    cfg = job.cfg["grid"]
    xs = np.linspace(-cfg["extent"], cfg["extent"], cfg["n"])
    h = xs[1] - xs[0]
    xx, yy = np.meshgrid(xs, xs, indexing="ij")
    pts = torch.as_tensor(np.stack([xx, yy], -1))
    sigma, c = cfg["sigma"], cfg["c"]
    j = skew_matrix(2, 0)

    def rel_div(p: np.ndarray, r: np.ndarray, s: np.ndarray) -> float:
        div = lambda f: np.gradient(p * f[..., 0], h, axis=0) + np.gradient(p * f[..., 1], h, axis=1)  # noqa: E731
        inner = (slice(2, -2), slice(2, -2))
        return float(np.abs(div(r)[inner]).max() / np.abs(div(s)[inner]).max())

    gmm = _gmm(job.cfg["gmm"])
    p = torch.exp(gmm.log_density(pts, sigma)).numpy()
    s = gmm.score(pts, sigma)
    universal = rel_div(p, universal_gauge(gmm.score, c, j)(pts, sigma).numpy() - s.numpy(), s.numpy())
    # ID-corrupting gauge for the unit circle (S¹ in R²): p_σ is rotation-invariant.
    from paperdag.papers.gauge_freedom.analytic import sphere_score

    pc = np.exp(sphere_log_density(pts.numpy(), 1, sigma) - sphere_log_density(pts.numpy(), 1, sigma).max())
    sc = sphere_score(pts, 1, sigma)
    circle = rel_div(pc, (id_corrupting_gauge(lambda x, sg: sphere_score(x, 1, sg), c, j)(pts, sigma) - sc).numpy(), sc.numpy())
    not_gauge = rel_div(p, c * s.numpy(), s.numpy())  # r = c∇log p is NOT a gauge
    # controls: each gauge with its skew J replaced by the symmetric M of the same norm (same form, no gauge)
    m_sym = symmetric_partner(j)
    control_universal = rel_div(p, universal_gauge(gmm.score, c, m_sym)(pts, sigma).numpy() - s.numpy(), s.numpy())
    circle_ctrl = id_corrupting_gauge(lambda x, sg: sphere_score(x, 1, sg), c, m_sym)(pts, sigma) - sc
    control_circle = rel_div(pc, circle_ctrl.numpy(), sc.numpy())
    write_run(
        _out(job, spec.GAUGE_CHECK),
        {
            "run_type": "gauge_check",
            "variant": "grid",
            "grid_n": cfg["n"],
            "grid_sigma": sigma,
            "rel_div_universal_gauge": universal,
            "rel_div_id_gauge_circle": circle,
            "rel_div_control_not_gauge": not_gauge,
            "rel_div_control_universal": control_universal,
            "rel_div_control_circle": control_circle,
        },
        config_hash=job.config_hash,
        seed=None,
        started=t0,
    )


def _exact_runs(job: Job, t0: float) -> dict[str, np.ndarray]:
    cfg = job.cfg
    arrays: dict[str, np.ndarray] = {}
    idc, tr = cfg["id"], cfg["trajectories"]
    for name in cfg["exact_manifolds"]:
        m = _manifold(cfg, name)
        radius, sigmas = _sigmas(cfg, m)
        base = torch.as_tensor(m.sample(idc["n_base"], seed=idc["base_seed"]))
        n_perturb = idc["perturb_factor"] * m.ambient
        variants = {
            "exact": m.exact_score,
            "id_gauge": id_corrupting_gauge(m.exact_score, cfg["gauge"]["c_id"], m.subspace_skew(cfg["gauge"]["skew_seed"])),
            "const_gauge": universal_gauge(
                m.exact_score, cfg["gauge"]["c_const"], skew_matrix(m.ambient, cfg["gauge"]["skew_seed"])
            ),
            # control: the curved normals under-resolved (a model that learned the span, not the curvature)
            "weak_normal": normal_damped(m, m.exact_score, cfg["control_normal_scale"]),
        }
        entries: list[dict[str, Any]] = []
        for factor, sigma in sigmas:
            pts = perturb(base, sigma, n_perturb, torch.Generator().manual_seed(idc["perturb_seed"]))
            reference = None
            for variant, fn in variants.items():
                spectra = centred_spectra(fn(pts, sigma))
                new, est = _id_entries(spectra, m.k, variant, factor, sigma, idc["sigma_star_factor"], reference)
                entries += new
                reference = est if variant == "exact" else reference
                if math.isclose(factor, idc["sigma_star_factor"]):
                    arrays[f"spectra_{name}_{variant}"] = spectra
        # flow-Jacobian trajectories of the exact score (protocol check 4)
        x_start = cfg["sigma_max"] * torch.randn(
            tr["n_points"], m.ambient, generator=torch.Generator().manual_seed(tr["seed"]), dtype=torch.float64
        )
        traj = {}
        for variant in ("exact", "weak_normal"):
            grid, svs = flow_jacobian_trajectory(
                variants[variant], x_start, cfg["sigma_max"], cfg["sigma_min"], tr["n_steps"], tr["n_record"]
            )
            final = svs[:, -1]
            traj[variant] = (full_log_gap_rule(final), np.log10(final[:, m.k - 1] / final[:, m.k]))
            arrays[f"traj_{name}_{variant}"], arrays["traj_sigmas"] = svs, grid
        (ids, decades), (ids_ctrl, decades_ctrl) = traj["exact"], traj["weak_normal"]
        jac = pointwise_jacobian(lambda z, m=m, sigma=sigmas[0][1]: m.exact_score(z, sigma), base)
        write_run(
            _out(job, spec.exact_run(name)),
            {
                "run_type": "exact",
                "manifold": name,
                "k": m.k,
                "ambient_dim": m.ambient,
                "rms_radius": radius,
                "id": entries,
                "traj_share_k": float((ids == m.k).mean()),
                "traj_min_decades": float(decades.min()),
                "traj_ids": ids.tolist(),
                "traj_control_share_k": float((ids_ctrl == m.k).mean()),
                "traj_control_min_decades": float(decades_ctrl.min()),
                "control_normal_scale": cfg["control_normal_scale"],
                "non_conservativity_max": float(non_conservativity(jac).max()),
            },
            config_hash=job.config_hash,
            seed=None,
            started=t0,
        )
    return arrays


def analytic(job: Job) -> None:
    """Everything with exact scores: gauge sampling/likelihood on a 2-D GMM, grid checks, exact-score ID."""
    seed_everything(0, threads=job.threads)
    t0 = time.perf_counter()
    _divergence_check(job, t0)
    arrays = _exact_runs(job, t0)
    arrays.update(_gmm_runs(job, t0))
    _save_npz(_out(job, spec.ANALYTIC_CURVES), **arrays)


# --------------------------------------------------------------------------- training
def _batched(model, sigma_scale: float = 1.0):
    """A score function on (M, ..., D) for a batched model (flattened to (M, N, D) and back)."""

    def fn(x: torch.Tensor, sigma: float) -> torch.Tensor:
        flat = x.reshape(x.shape[0], -1, x.shape[-1]).float()
        return model.score(flat, sigma).reshape(x.shape).to(x.dtype)

    return fn


def train(job: Job) -> None:
    """Train one model kind on each manifold in turn (one process: imports paid once), then the
    small Figure 5 models of the same kind (when the scale configures them)."""
    for name in job.cfg["manifolds"]:
        _train_one(job, name, job.wildcards["kind"])
    if job.cfg.get("figure5"):
        _train_figure5(job, job.wildcards["kind"])


def _train_dsm(
    job: Job,
    kind: str,
    seeds: list[int],
    dim: int,
    model_cfg: dict,
    data: torch.Tensor,
    tc: dict,
    sigma_data: float,
    name: str,
    run_labels: list[str],
    *,
    checkpoint_every: int,
):
    """Train one batched score model of `kind` (one model per seed) by denoising score matching on
    `data` (a fresh point per draw) with training settings `tc`; returns (model, history)."""
    from paperdag.papers.gauge_freedom.model import BatchedScoreModel, DSMTask
    from paperdag.training import fit

    cfg = job.cfg
    model = BatchedScoreModel(
        kind, seeds, dim, model_cfg["hidden"], model_cfg["n_freq"], cfg["sigma_min"], cfg["sigma_max"], sigma_data
    )
    task = DSMTask(model, data, seeds, tc["batch"], tc["lr"], tc["steps"], cfg["sigma_min"], cfg["sigma_max"])
    history = fit(
        task,
        steps=tc["steps"],
        label=f"{job.label}/{name}",
        run_labels=run_labels,
        checkpoint_dir=job.checkpoint_dir() / job.config_hash / name,
        checkpoint_every=checkpoint_every,
        log_every=max(tc["steps"] // 10, 1),
        accelerator=job.accelerator(),
    )
    return model, history


def _train_figure5(job: Job, kind: str) -> None:
    """The paper's Figure 5: models of one kind trained on the Swiss roll and S² in ambient D = 3 and 5
    (per D, the manifolds as one batched model), then the probability-flow ODE from noise with its
    flow Jacobian: singular-value trajectories, and the end points' distance to the manifold.

    References (what the exact score would give): exact draws from p_σmin, and for S² the same ODE with
    the closed-form score. Distances are to the nearest point of a dense manifold sample.
    """
    from paperdag.papers.gauge_freedom.estimators import distance_to_set

    cfg, f5 = job.cfg, job.cfg["figure5"]
    tc = f5["training"]
    seed_everything(0, threads=job.threads)
    t0 = time.perf_counter()
    arrays: dict[str, np.ndarray] = {}
    for dim in f5["dims"]:
        mans = [Manifold(name, dim, cfg["embed_seed"]) for name in f5["manifolds"]]
        seeds = [f5["seed"] + i for i in range(len(mans))]  # one model per manifold, each its own seed
        stream = tc["steps"] * tc["batch"]
        data = torch.stack([torch.as_tensor(m.sample(stream, seed=2_000 + s), dtype=torch.float32) for m, s in zip(mans, seeds)])
        sigma_data = float(data.pow(2).mean().sqrt())
        model, history = _train_dsm(
            job,
            kind,
            seeds,
            dim,
            f5["model"],
            data,
            tc,
            sigma_data,
            f"figure5_D{dim}",
            [f"figure5/{m.name}_D{dim}/{kind}" for m in mans],
            checkpoint_every=tc["steps"],
        )
        model.eval()
        del data
        gen = torch.Generator().manual_seed(f5["ode_seed"])
        x_start = cfg["sigma_max"] * torch.randn(f5["n_points"], dim, generator=gen, dtype=torch.float64)
        grid, svs, ends = flow_jacobian_trajectory(
            _batched(model),
            x_start.expand(len(mans), *x_start.shape).clone(),
            cfg["sigma_max"],
            cfg["sigma_min"],
            f5["ode_steps"],
            f5["n_record"],
            with_end=True,
        )
        arrays["sigmas"] = grid
        for i, m in enumerate(mans):
            ref = torch.as_tensor(m.sample(f5["n_reference"], seed=3_000 + dim))
            draws = torch.as_tensor(m.sample(f5["n_points"], seed=4_000 + dim))
            draws = draws + cfg["sigma_min"] * torch.randn(draws.shape, generator=gen, dtype=draws.dtype)
            dist, dist_draws = distance_to_set(ends[i], ref), distance_to_set(draws, ref)
            ids = full_log_gap_rule(svs[i, :, -1])
            metrics: dict[str, Any] = {
                "run_type": "figure5",
                "manifold": m.name,
                "model": kind,
                "ambient_dim": dim,
                "k": m.k,
                "seed": seeds[i],
                "steps": tc["steps"],
                "distance_median": float(np.median(dist)),
                "distance_p90": float(np.quantile(dist, 0.9)),
                "traj_share_k": float((ids == m.k).mean()),
                "exact_draws_distance_median": float(np.median(dist_draws)),
                "exact_draws_distance_p90": float(np.quantile(dist_draws, 0.9)),
                "last_logged_loss": history[-1][1][i] if history else float("nan"),
                "curve": history.curve(i) if history else None,
            }
            key = f"{m.name}_D{dim}"
            arrays[f"traj_{key}"], arrays[f"dist_{key}"], arrays[f"dist_{key}_draws"] = svs[i], dist, dist_draws
            if m.has_exact_score:  # the same ODE with the closed-form score
                _, svs_x, ends_x = flow_jacobian_trajectory(
                    m.exact_score,
                    x_start.clone(),
                    cfg["sigma_max"],
                    cfg["sigma_min"],
                    f5["ode_steps"],
                    f5["n_record"],
                    with_end=True,
                )
                dist_x = distance_to_set(ends_x, ref)
                metrics["exact_ode_distance_median"] = float(np.median(dist_x))
                metrics["exact_ode_distance_p90"] = float(np.quantile(dist_x, 0.9))
                metrics["exact_ode_traj_share_k"] = float((full_log_gap_rule(svs_x[:, -1]) == m.k).mean())
                arrays[f"traj_{key}_exact"], arrays[f"dist_{key}_exact"] = svs_x, dist_x
            write_run(
                _out(job, spec.figure5_run(m.name, dim, kind)),
                metrics,
                config_hash=job.config_hash,
                seed=seeds[i],
                started=t0,
                settings={**tc, **f5["model"], "kind": kind, "sigma_data": sigma_data, "fresh_samples": stream},
            )
    _save_npz(_out(job, spec.figure5_curves(kind)), **arrays)


def _train_one(job: Job, name: str, kind: str) -> None:
    """Train one manifold × model kind (all seeds as one batched model), then measure ID, gate, asymmetry."""

    cfg = job.cfg
    tc = {**cfg["training"], "steps": spec.manifold_steps(cfg["training"], name)}  # this manifold's step count
    seed_everything(0, threads=job.threads)
    t0 = time.perf_counter()
    m = _manifold(cfg, name)
    seeds = list(cfg["seeds"])
    stream = tc["steps"] * tc["batch"]  # a fresh point for every draw of training
    data = torch.empty(len(seeds), stream, m.ambient)  # filled seed by seed: one float64 draw in memory at a time
    for i, s in enumerate(seeds):
        data[i] = torch.as_tensor(m.sample(stream, seed=1_000 + s))
    sigma_data = float(data.pow(2).mean().sqrt())
    model, history = _train_dsm(
        job,
        kind,
        seeds,
        m.ambient,
        cfg["model"],
        data,
        tc,
        sigma_data,
        name,
        [f"{name}/{kind}/seed{s}" for s in seeds],
        checkpoint_every=tc["checkpoint_every"],
    )
    model.eval()
    score = _batched(model)
    idc, tr = cfg["id"], cfg["trajectories"]
    radius, sigmas = _sigmas(cfg, m)
    sigma_star = idc["sigma_star_factor"] * radius
    base = torch.as_tensor(m.sample(idc["n_base"], seed=idc["base_seed"]))
    n_perturb = idc["perturb_factor"] * m.ambient
    entries: list[list[dict[str, Any]]] = [[] for _ in seeds]
    spectra_star = None
    for factor, sigma in sigmas:
        pts = perturb(base, sigma, n_perturb, torch.Generator().manual_seed(idc["perturb_seed"]))
        scores = score(pts.expand(len(seeds), *pts.shape), sigma).detach()
        spectra = centred_spectra(scores)  # (M, n_base, D)
        for i in range(len(seeds)):
            entries[i] += _id_entries(spectra[i], m.k, "trained", factor, sigma, idc["sigma_star_factor"])[0]
        if math.isclose(factor, idc["sigma_star_factor"]):
            spectra_star = spectra
    # adequacy: the curved normals resolved at σ* (and, where the score is closed-form, the exact score's value)
    adequacy = normal_ratio(spectra_star, m.k, m.native).mean(-1)
    exact_adequacy = None
    if m.has_exact_score:
        star_pts = perturb(base, sigma_star, n_perturb, torch.Generator().manual_seed(idc["perturb_seed"]))
        exact_spectra = centred_spectra(m.exact_score(star_pts, sigma_star))
        exact_adequacy = float(normal_ratio(exact_spectra, m.k, m.native).mean())
    # non-conservativity at noisy data points, σ*
    x_nc = (
        base
        + sigma_star * torch.randn(base.shape, generator=torch.Generator().manual_seed(idc["perturb_seed"] + 1), dtype=base.dtype)
    ).float()
    jac = pointwise_jacobian(lambda z: model.score(z, sigma_star), x_nc.expand(len(seeds), *x_nc.shape))
    nc = non_conservativity(jac.double()).detach().numpy()
    # flow-Jacobian trajectories (figure)
    x_start = cfg["sigma_max"] * torch.randn(
        tr["n_points"], m.ambient, generator=torch.Generator().manual_seed(tr["seed"]), dtype=torch.float64
    )
    grid, svs = flow_jacobian_trajectory(
        score,
        x_start.expand(len(seeds), *x_start.shape).clone(),
        cfg["sigma_max"],
        cfg["sigma_min"],
        tr["n_trained_steps"],
        tr["n_record"],
    )
    del data  # the fresh-sample stream (~300 MB) before the next manifold's
    _save_npz(_out(job, spec.trained_curves(name, kind)), spectra_star=spectra_star, traj=svs, traj_sigmas=grid)
    final_losses = history[-1][1] if history else [float("nan")] * len(seeds)
    for i, seed in enumerate(seeds):
        write_run(
            _out(job, spec.trained_run(name, kind, seed)),
            {
                "run_type": "trained",
                "manifold": name,
                "model": kind,
                "seed": seed,
                "k": m.k,
                "ambient_dim": m.ambient,
                "steps": tc["steps"],
                "rms_radius": radius,
                "sigma_star": sigma_star,
                "id": entries[i],
                "non_conservativity_mean": float(nc[i].mean()),
                "non_conservativity_max": float(nc[i].max()),
                "normal_ratio": float(adequacy[i]),
                "normal_ratio_exact": exact_adequacy,
                "last_logged_loss": final_losses[i],
                "traj_final_ids": full_log_gap_rule(svs[i, :, -1]).tolist(),
                "curve": history.curve(i) if history else None,
            },
            config_hash=job.config_hash,
            seed=seed,
            started=t0,
            settings={**tc, **cfg["model"], "kind": kind, "sigma_data": sigma_data, "fresh_samples": stream},
        )


# --------------------------------------------------------------------------- report
def report(job: Job) -> None:
    """Tables, figures and claims.json from every run."""
    # Imported here so that edits to claims or figures rerun the report, not the training.
    from paperdag.aggregate import report_paper
    from paperdag.papers.gauge_freedom.claims import claims
    from paperdag.papers.gauge_freedom.summary import summarize

    report_paper(job, claims(job.cfg), summarize)
