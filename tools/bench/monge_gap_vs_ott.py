"""Side-by-side benchmark: the Monge-gap MLP trained by paperdag and by ott-jax's `MongeGapEstimator`.

Usage (from the repository root, with the project's virtualenv)::

    PYTHONPATH=src .venv/bin/python tools/bench/monge_gap_vs_ott.py                    # both default sizes
    PYTHONPATH=src .venv/bin/python tools/bench/monge_gap_vs_ott.py --sizes 16x128 --steps 100 --json out.json
    PYTHONPATH=src .venv/bin/python tools/bench/monge_gap_vs_ott.py --steps 100 --extra-scalings 0.9 \
        --ott-relative-mean --ott-thresholds 1e-2,1e-1     # the README's run

The ott-jax side runs in a throwaway virtualenv outside the repository (``--venv``; default
``$XDG_CACHE_HOME/paperdag-ott-venv`` or ``/tmp/paperdag-ott-venv``), created on first use with
``pip install ott-jax==0.6.0 flax diffrax`` (needs the network once); jax never enters ``.venv``.
This file is also the ott worker: the venv's Python runs it with ``--ott-worker`` and it imports
only jax/ott there, talking JSON lines over stdin/stdout, so both sides stay warm in one run.

What is matched (d, batch from ``--sizes``; the rest from config.yaml's ``monge_gap`` section, default scale):
- map: MLP d → 64 → 64 → 64 → d, exact (erf) GELU, residual (x + MLP(x)); residual because ott's
  ``PotentialMLP(is_potential=False)``, the model `MongeGapEstimator` trains, is residual (config: ``resmlp_mg``);
- fitting loss: debiased Sinkhorn divergence at blur 0.05: paperdag's geomloss estimator (cost ½‖·‖², ε = blur²,
  ε-scaling 0.5, fixed schedule) vs ott's ``sinkdiv`` (cost ‖·‖², ε = 2·blur², Sinkhorn to its default tolerance
  1e-3 on the marginals, at most 2000 iterations); ott's cost and ε are both twice ours, so its values are 2×;
- Monge gap: ε = mg_eps_scale (0.01) × the batch's mean displacement cost, under a stop-gradient, on both sides.
  ott's built-in ``relative_epsilon="mean"`` scales by the mean of the whole n × n cost matrix instead (a much
  larger ε), so the ott side passes this absolute ε, computed as paperdag does, to ott's own
  ``monge_gap_from_samples`` (identical ε, not merely similar); λ = 1 on both sides (ott's loss is then 2× ours);
- optimiser: Adam, constant lr from config (ott's default optimiser; paperdag's cosine decay is left out as it costs
  nothing per step); the same minibatches (paperdag's ``draw_batches``, model seed 0 on the ott side).

Timing: one thread each (``torch.set_num_threads(1)``; XLA_FLAGS single-thread). paperdag trains ``--seeds``
models as one batched ``MapTask`` (its training loss, batch drawing included; Lightning's loop excluded), with the
fused (torch.compile) Sinkhorn loop and without; ott trains one model. The first step of each (compilation) and
``--warmup`` more steps are untimed but reported; then ``--repeats`` blocks of ``--steps`` steps are timed per side,
interleaved (paperdag fused, paperdag eager, ott, rotated each repeat), so load from other jobs hits all sides alike.
Reported: median seconds per model-step (paperdag: block time / steps / models) and ott / paperdag.
``--extra-scalings 0.9`` also times paperdag with a finer ε-scaling schedule than the training's 0.5 (config
``fit_scaling``): geomloss stops after a fixed schedule, whose bias at 0.5 is what the accuracy lines show.
``--ott-relative-mean`` also times ott with its built-in relative ε for the Monge gap (a different, larger ε; its
accuracy is judged against the reference at that ε); ``--ott-thresholds 1e-2,1e-1`` times ott with looser Sinkhorn
thresholds than its default 1e-3 (for both Sinkhorn problems), to compare at matched accuracy rather than as shipped;
``--ott-split-thresholds 1e-1:1e-3`` sets them per problem (fitting loss : Monge gap), since the two problems need
different thresholds to reach a given accuracy. "Matched accuracy" lines name, for each paperdag side, the fastest
ott side whose relative errors on both the Sinkhorn divergence and the Monge gap are at most paperdag's.
The first step's time is a cold torch.compile unless ``--warm-compile-cache`` (a fresh inductor cache by default).

Accuracy: on one fixed batch (x, T(x), y) with T the paperdag map after training, each solver's Sinkhorn divergence
and Monge gap, with the settings used in training, against a float64 log-domain Sinkhorn run until the marginal
error (ℓ1) is below 1e-9 (ε-scaled log-domain Sinkhorn, then Newton steps on the dual); paperdag's values also at
the ``--accuracy-scalings`` (untimed). The reference agrees with POT's ``sinkhorn_log`` to its own convergence.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OTT_PIN = ["ott-jax==0.6.0", "flax", "diffrax"]  # flax, diffrax: needed at import although not declared
SINGLE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- pure helpers (unit-tested)
def parse_sizes(text: str) -> list[tuple[int, int]]:
    """'16x128,8x256' → [(16, 128), (8, 256)]: (dimension, batch) pairs."""
    sizes = []
    for part in text.split(","):
        dim, sep, batch = part.strip().lower().partition("x")
        if not sep or not dim.isdigit() or not batch.isdigit() or int(dim) < 1 or int(batch) < 2:
            raise argparse.ArgumentTypeError(f"size '{part}' is not DIMxBATCH (e.g. 16x128)")
        sizes.append((int(dim), int(batch)))
    return sizes


def parse_scalings(text: str) -> list[float]:
    """'0.8,0.9' → [0.8, 0.9]: geomloss ε-scaling factors, each in (0, 1)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"'{text}' is not a comma-separated list of numbers") from err
    if any(not 0 < v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"ε-scaling factors lie in (0, 1), not {text}")
    return values


def default_venv() -> Path:
    """The throwaway ott-jax venv: under $XDG_CACHE_HOME when set, else /tmp."""
    cache = os.environ.get("XDG_CACHE_HOME")
    return Path(cache) / "paperdag-ott-venv" if cache else Path("/tmp/paperdag-ott-venv")


def per_model_step(seconds: float, steps: int, models: int) -> float:
    """Seconds per model-step of a timed block that trained `models` models for `steps` steps."""
    if steps < 1 or models < 1:
        raise ValueError("steps and models must be positive")
    return seconds / (steps * models)


def summarize(blocks: dict[str, list[float]]) -> dict[str, float]:
    """Median seconds per model-step per side."""
    return {side: statistics.median(values) for side, values in blocks.items()}


def format_ratio(ott: float, paperdag: float) -> str:
    """'5.53× (paperdag faster)' for ott / paperdag seconds per model-step."""
    ratio = ott / paperdag
    return f"{ratio:.2f}× ({'paperdag' if ratio >= 1 else 'ott-jax'} faster)"


def relative_error(value: float, reference: float) -> float:
    return abs(value - reference) / abs(reference)


def parse_threshold_pairs(text: str) -> list[tuple[float, float]]:
    """'1e-1:1e-3,3e-2:1e-3' → [(0.1, 0.001), (0.03, 0.001)] (fitting-loss and Monge-gap thresholds)."""
    try:
        pairs = [tuple(float(v) for v in part.split(":")) for part in text.split(",") if part.strip()]
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of FIT:MG thresholds") from err
    if any(len(pair) != 2 or min(pair) <= 0 for pair in pairs):
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of positive FIT:MG thresholds")
    return pairs


def matched_accuracy(res: dict) -> list[str]:
    """For each paperdag side, the fastest ott side at least as accurate on both the Sinkhorn divergence and
    the Monge gap (the accuracy-matched comparison), and the speed ratio; or that no ott side ran that accurate."""
    acc, med = res["accuracy"], res["median_s"]
    lines = []
    for name in med:
        if name.startswith("ott") or name not in acc:
            continue
        mine = acc[name]
        rivals = [
            other
            for other in med
            if other.startswith("ott")
            and other != "ott_relmean"
            and acc[other]["sinkhorn_divergence_rel_err"] <= mine["sinkhorn_divergence_rel_err"]
            and acc[other]["monge_gap_rel_err"] <= mine["monge_gap_rel_err"]
        ]
        if not rivals:
            lines.append(f"  matched accuracy, {name}: no ott side timed was as accurate on both quantities")
            continue
        best = min(rivals, key=lambda other: med[other])
        lines.append(
            f"  matched accuracy, {name}: fastest ott side at least as accurate on both is {best}: "
            f"{format_ratio(med[best], med[name])}"
        )
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", type=parse_sizes, default=parse_sizes("16x128,8x256"), help="DIMxBATCH,… (default 16x128,8x256)")
    p.add_argument("--steps", type=int, default=200, help="steps per timed block (default 200)")
    p.add_argument("--repeats", type=int, default=3, help="timed blocks per side, interleaved (default 3)")
    p.add_argument("--warmup", type=int, default=10, help="untimed steps after the first (compiling) one (default 10)")
    p.add_argument(
        "--seeds",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[0, 1, 2],
        help="paperdag's batched models (default 0,1,2)",
    )
    p.add_argument("--benchmark", default="gaussian", choices=["gaussian", "brenier"])
    p.add_argument("--no-eager", action="store_true", help="skip paperdag's unfused (fused_sinkhorn: false) side")
    p.add_argument(
        "--ott-relative-mean",
        action="store_true",
        help="also time ott with its built-in relative_epsilon='mean' (ε = scale × mean of the whole cost matrix)",
    )
    p.add_argument(
        "--ott-thresholds",
        type=lambda text: [float(v) for v in text.split(",") if v.strip()],
        default=[],
        help="also time ott with these Sinkhorn thresholds (its default: 1e-3), e.g. 1e-2: looser, faster, less accurate",
    )
    p.add_argument(
        "--ott-split-thresholds",
        type=parse_threshold_pairs,
        default=[],
        help="also time ott with FIT:MG thresholds, one per Sinkhorn problem (fitting loss, Monge gap), e.g. 1e-1:1e-3",
    )
    p.add_argument(
        "--extra-scalings",
        type=parse_scalings,
        default=[],
        help="also time paperdag (fused) at these ε-scaling factors, e.g. 0.9 (finer schedule, more accurate)",
    )
    p.add_argument(
        "--accuracy-scalings",
        type=parse_scalings,
        default=parse_scalings("0.7,0.8,0.9,0.95"),
        help="paperdag's accuracy also at these ε-scaling factors (untimed; default 0.7,0.8,0.9,0.95)",
    )
    p.add_argument("--venv", type=Path, default=default_venv(), help="throwaway ott-jax venv (default: %(default)s)")
    p.add_argument("--json", type=Path, help="also write the results here")
    p.add_argument(
        "--warm-compile-cache",
        action="store_true",
        help="keep torch.compile's on-disk cache (default: a fresh one, so the first step's compile time is the cold one)",
    )
    p.add_argument("--ott-worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps < 1 or args.repeats < 1 or args.warmup < 0 or not args.seeds:
        p.error("--steps and --repeats must be ≥ 1, --warmup ≥ 0, --seeds non-empty")
    return args


# ---------------------------------------------------------------- ott-jax worker (runs in the throwaway venv)
def ott_worker() -> None:
    """JSON-lines server: `setup` (build and compile), `train` (time a block), `accuracy`, `quit`."""
    import functools

    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from ott.geometry import costs
    from ott.neural.methods.monge_gap import MongeGapEstimator, monge_gap_from_samples
    from ott.neural.networks.potentials import PotentialMLP
    from ott.tools.sinkhorn_divergence import sinkdiv

    sq = costs.SqEuclidean()
    state: dict = {}

    def losses(blur: float, eps_scale: float, relative: bool, thresholds: list | None):
        # (fitting, Monge gap) Sinkhorn thresholds; None: ott's default (1e-3)
        fit_tol, mg_tol = thresholds or (None, None)
        fit_solve = {} if fit_tol is None else {"threshold": fit_tol}
        solve = {} if mg_tol is None else {"threshold": mg_tol}

        def fitting(mapped, target, return_output=False):
            div, out = sinkdiv(mapped, target, cost_fn=sq, epsilon=2 * blur**2, solve_kwargs=fit_solve)
            return div, (out if return_output else None)

        def regularizer(source, mapped, return_output=False):
            if relative:  # ott's own relative ε: eps_scale × the mean of the whole n × n cost matrix
                out = monge_gap_from_samples(
                    source, mapped, cost_fn=sq, epsilon=eps_scale, relative_epsilon="mean", return_output=return_output, **solve
                )
                return out if return_output else (out, None)
            disp = jnp.mean(jnp.sum((source - mapped) ** 2, axis=-1))  # ott's cost: ‖·‖², no ½
            eps = jax.lax.stop_gradient(jnp.maximum(eps_scale * disp, 2e-6))  # paperdag: clamp 1e-6 in ½-units
            out = monge_gap_from_samples(source, mapped, cost_fn=sq, epsilon=eps, return_output=return_output, **solve)
            return out if return_output else (out, None)

        return fitting, regularizer

    def handle(msg: dict) -> dict:
        cmd = msg["cmd"]
        if cmd == "setup":
            data = np.load(msg["data"])
            fitting, reg = losses(msg["blur"], msg["eps_scale"], msg["relative"], msg["thresholds"])
            model = PotentialMLP(
                dim_hidden=msg["hidden"], is_potential=False, act_fn=functools.partial(jax.nn.gelu, approximate=False)
            )
            est = MongeGapEstimator(
                dim_data=msg["dim"],
                model=model,
                optimizer=optax.adam(msg["lr"]),
                fitting_loss=fitting,
                regularizer=reg,
                regularizer_strength=msg["lam"],
                num_train_iters=len(data["x"]),
                rng=jax.random.PRNGKey(msg["seed"]),
            )
            state[msg["name"]] = {
                "est": est,
                "x": data["x"],
                "y": data["y"],
                "net": est.state_neural_net,
                "reg": reg,
                "fit": fitting,
            }
            return {"ok": True}
        if cmd == "train":
            side = state[msg["name"]]
            est, net = side["est"], side["net"]
            start = time.perf_counter()
            for t in range(msg["start"], msg["start"] + msg["steps"]):
                batch = {"source": jnp.asarray(side["x"][t]), "target": jnp.asarray(side["y"][t])}
                net, _ = est.step_fn(net, batch, None, False, t)
            jax.block_until_ready(net.params)
            side["net"] = net
            return {"seconds": time.perf_counter() - start}
        if cmd == "accuracy":
            data = np.load(msg["data"])
            x, mapped, y = (jnp.asarray(data[k]) for k in ("x", "mapped", "y"))
            side = state[msg["name"]]
            div, div_out = side["fit"](mapped, y, return_output=True)
            gap, gap_out = side["reg"](x, mapped, return_output=True)
            return {
                "sinkhorn_divergence": float(div) / 2,
                "monge_gap": float(gap) / 2,  # into ½‖·‖² units
                "sinkdiv_iters": [int(v) for v in div_out.n_iters],
                "sinkdiv_converged": [bool(v) for v in div_out.converged],
                "mg_iters": int(gap_out.n_iters),
                "mg_converged": bool(gap_out.converged),
            }
        if cmd == "versions":
            import ott

            return {"jax": jax.__version__, "ott": ott.__version__, "backend": jax.default_backend()}
        raise ValueError(f"unknown command {cmd}")

    for line in sys.stdin:
        msg = json.loads(line)
        if msg["cmd"] == "quit":
            break
        try:
            reply = handle(msg)
        except Exception as err:  # report, keep serving
            reply = {"error": f"{type(err).__name__}: {err}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


# ---------------------------------------------------------------- driver (project venv)
def ensure_venv(venv: Path) -> Path:
    """The venv's python, creating the venv and installing the pinned ott-jax if absent."""
    python = venv / "bin" / "python"
    marker = venv / ".paperdag-ott-pin"
    if not (python.exists() and marker.exists() and marker.read_text() == " ".join(OTT_PIN)):
        print(f"creating the ott-jax venv at {venv} ({' '.join(OTT_PIN)}) …", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OTT_PIN], check=True)
        marker.write_text(" ".join(OTT_PIN))
    return python


class OttWorker:
    """The ott-jax side in a subprocess of the throwaway venv, single-threaded."""

    def __init__(self, python: Path) -> None:
        env = {**os.environ, "XLA_FLAGS": SINGLE_THREAD_XLA, "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"}
        env.pop("PYTHONPATH", None)
        self.proc = subprocess.Popen(
            [str(python), str(Path(__file__).resolve()), "--ott-worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tempfile.gettempdir(),
        )

    def __call__(self, **msg) -> dict:
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the ott-jax worker exited (see its stderr above)")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"ott-jax worker: {reply['error']}")
        return reply

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)


def reference_ot(x, y, eps: float, tol: float = 1e-9, max_newton: int = 200):
    """OT_ε(x̂, ŷ) = ⟨a, f⟩ + ⟨b, g⟩ (KL convention), cost ½‖x − y‖², uniform weights, in float64: log-domain
    Sinkhorn with ε-scaling, then Newton's method on the dual (Sinkhorn alone crawls at small ε; Brauer et al.
    2017, "A Sinkhorn-Newton method"), until the ℓ1 error of both marginals is below `tol`."""
    import torch

    x, y = x.double(), y.double()
    cost = 0.5 * torch.cdist(x, y) ** 2
    n, m = cost.shape
    a, b = torch.full((n,), 1.0 / n, dtype=torch.float64), torch.full((m,), 1.0 / m, dtype=torch.float64)

    def plan(f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return a.unsqueeze(1) * b * torch.exp((f.unsqueeze(1) + g - cost) / eps)

    def dual(f: torch.Tensor, g: torch.Tensor) -> float:  # concave; its maximum is OT_ε
        return float(a @ f + b @ g - eps * (plan(f, g).sum() - 1.0))

    f, g = torch.zeros(n, dtype=torch.float64), torch.zeros(m, dtype=torch.float64)
    e = float(cost.max())
    while e > eps:  # ε-scaling warm start
        e = max(e / 2, eps)
        for _ in range(20 if e > eps else 200):
            f = -e * torch.logsumexp(b.log() + (g - cost) / e, dim=1)
            g = -e * torch.logsumexp(a.log().unsqueeze(1) + (f.unsqueeze(1) - cost) / e, dim=0)
    for _ in range(max_newton):
        p = plan(f, g)
        grad = torch.cat([a - p.sum(1), b - p.sum(0)])
        if float(grad.abs().sum()) < tol:
            return dual(f, g)
        hess = torch.cat([torch.cat([torch.diag(p.sum(1)), p], 1), torch.cat([p.T, torch.diag(p.sum(0))], 1)]) / eps
        step = torch.linalg.lstsq(hess, grad.unsqueeze(1), driver="gelsd").solution[:, 0]
        value, t = dual(f, g), 1.0
        while dual(f + t * step[:n], g + t * step[n:]) < value and t > 1e-6:
            t /= 2
        f, g = f + t * step[:n], g + t * step[n:]
    raise RuntimeError(f"reference solver did not reach a marginal error of {tol} (last {float(grad.abs().sum()):.2e})")


def reference_values(x, mapped, y, blur: float, eps_scale: float, relmean: bool = False) -> dict[str, float]:
    """Converged S_ε(T#x̂, ŷ) (ε = blur²) and MG_ε(T) (ε = eps_scale × mean displacement), cost ½‖·‖²; with
    `relmean`, also MG at ott's relative_epsilon="mean" ε (eps_scale × the mean of the whole cost matrix)."""
    import torch

    eps = blur**2
    div = reference_ot(mapped, y, eps) - 0.5 * reference_ot(mapped, mapped, eps) - 0.5 * reference_ot(y, y, eps)
    disp = float(0.5 * ((x.double() - mapped.double()) ** 2).sum(-1).mean())
    mg_eps = max(eps_scale * disp, 1e-6)
    n = len(x)
    gap = disp - (reference_ot(x, mapped, mg_eps) - 2 * mg_eps * math.log(n))
    out = {"sinkhorn_divergence": div, "monge_gap": gap, "mg_eps": mg_eps, "displacement": disp}
    if relmean:
        rel_eps = eps_scale * float(0.5 * torch.cdist(x.double(), mapped.double()).pow(2).mean())
        out["mg_eps_relmean"] = rel_eps
        out["monge_gap_relmean"] = disp - (reference_ot(x, mapped, rel_eps) - 2 * rel_eps * math.log(n))
    return out


def run_size(dim: int, batch: int, args: argparse.Namespace, cfg: dict, worker: OttWorker) -> dict:
    """Train all sides on (dim, batch), interleaved; return timings and accuracies."""
    import numpy as np
    import torch

    from paperdag.papers.monge_gap.benchmarks import make_problem
    from paperdag.papers.monge_gap.ot import monge_gap
    from paperdag.papers.monge_gap.tasks import MapTask, draw_batches
    from paperdag.sinkhorn import sinkhorn_divergence

    method, base = cfg["methods"]["resmlp_mg"], cfg["training"]
    hidden, lam, eps_scale = list(method["hidden"]), float(method["monge_gap"]), float(method["mg_eps_scale"])
    blur, scaling, lr = float(base["fit_blur"]), float(base["fit_scaling"]), float(base["lr"])
    total = 1 + args.warmup + args.repeats * args.steps
    problem = make_problem(args.benchmark, dim, cfg["data"][args.benchmark])
    seeds = args.seeds

    def make_side(fused: bool, fit_scaling: float = scaling):
        training = {**base, "batch": batch, "fused_sinkhorn": fused, "schedule": "constant", "fit_scaling": fit_scaling}
        task = MapTask(
            problem,
            seeds,
            hidden,
            residual=[True] * len(seeds),
            mg_weights=[lam] * len(seeds),
            mg_eps_scales=[eps_scale] * len(seeds),
            costs=["sqeuclidean"] * len(seeds),
            training=training,
            steps=total,
        )
        opt = torch.optim.Adam(task.parameters(), lr=lr)
        pos = [0]

        def train(steps: int) -> float:
            start = time.perf_counter()
            for t in range(pos[0], pos[0] + steps):
                opt.zero_grad(set_to_none=True)
                task.training_loss(t).sum().backward()
                opt.step()
            pos[0] += steps
            return time.perf_counter() - start

        return task, train

    sides = {"paperdag_fused": make_side(True)}
    if not args.no_eager:
        sides["paperdag_eager"] = make_side(False)
    for extra in args.extra_scalings:
        sides[f"paperdag_fused_s{extra:g}"] = make_side(True, extra)
    with tempfile.TemporaryDirectory() as tmp:
        xs, ys = zip(*(draw_batches(problem, [seeds[0]], t, batch) for t in range(total)))
        np.savez(Path(tmp) / "batches.npz", x=torch.cat(xs).numpy(), y=torch.cat(ys).numpy())
        ott_sides = {"ott": (False, None)} | (
            {"ott_relmean": (True, None)} if args.ott_relative_mean else {}
        )  # (relative ε, threshold)
        ott_sides |= {f"ott_tol{t:g}": (False, (t, t)) for t in args.ott_thresholds}
        ott_sides |= {f"ott_fit{f:g}_mg{m:g}": (False, (f, m)) for f, m in args.ott_split_thresholds}

        def ott_side(name: str):
            worker(
                cmd="setup",
                name=name,
                relative=ott_sides[name][0],
                thresholds=ott_sides[name][1],
                data=str(Path(tmp) / "batches.npz"),
                dim=dim,
                hidden=hidden,
                lr=lr,
                blur=blur,
                eps_scale=eps_scale,
                lam=lam,
                seed=seeds[0],
            )
            pos = [0]

            def train(steps: int) -> float:
                seconds = worker(cmd="train", name=name, start=pos[0], steps=steps)["seconds"]
                pos[0] += steps
                return seconds

            return train

        trainers = {name: train for name, (_, train) in sides.items()} | {name: ott_side(name) for name in ott_sides}
        models = {name: (1 if name.startswith("ott") else len(seeds)) for name in trainers}
        first = {name: train(1) for name, train in trainers.items()}  # compiles (jit / torch.compile)
        warm = {name: train(args.warmup) for name, train in trainers.items()}
        blocks: dict[str, list[float]] = {name: [] for name in trainers}
        names = list(trainers)
        for r in range(args.repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                blocks[name].append(per_model_step(trainers[name](args.steps), args.steps, models[name]))
            print(
                f"  d={dim} batch={batch} repeat {r + 1}: " + ", ".join(f"{k} {1e3 * v[-1]:.2f} ms" for k, v in blocks.items()),
                file=sys.stderr,
                flush=True,
            )

        # accuracy on one fixed batch, T = paperdag's fused model 0 after training
        task = sides["paperdag_fused"][0]
        x, y = draw_batches(problem, [seeds[0]], 10**6, batch)
        with torch.no_grad():
            mapped = task.net(x.expand(len(seeds), -1, -1))[:1]
        ref = reference_values(x[0], mapped[0], y[0], blur, eps_scale, args.ott_relative_mean)
        acc = {"reference": ref}
        solvers = {"paperdag_fused": (True, scaling)} | ({} if args.no_eager else {"paperdag_eager": (False, scaling)})
        for extra in sorted(set(args.extra_scalings) | set(args.accuracy_scalings)):
            solvers[f"paperdag_fused_s{extra:g}"] = (True, extra)
        for name, (fused, s) in solvers.items():
            with torch.no_grad():
                div = float(sinkhorn_divergence(mapped, y, blur=blur, scaling=s, fused=fused)[0])
                gap = float(monge_gap(x, mapped, cost="sqeuclidean", eps_scale=eps_scale, scaling=s, fused=fused)[0])
            acc[name] = {"sinkhorn_divergence": div, "monge_gap": gap, "scaling": s}
        np.savez(Path(tmp) / "acc.npz", x=x[0].numpy(), mapped=mapped[0].numpy(), y=y[0].numpy())
        for name in ott_sides:
            acc[name] = worker(cmd="accuracy", name=name, data=str(Path(tmp) / "acc.npz"), blur=blur)
    for name, vals in acc.items():
        if name != "reference":
            vals["sinkhorn_divergence_rel_err"] = relative_error(vals["sinkhorn_divergence"], ref["sinkhorn_divergence"])
            mg_ref = ref["monge_gap_relmean"] if name == "ott_relmean" else ref["monge_gap"]  # its own (larger) ε
            vals["monge_gap_rel_err"] = relative_error(vals["monge_gap"], mg_ref)
    return {
        "dim": dim,
        "batch": batch,
        "scaling": scaling,
        "models": models,
        "first_step_s": first,
        "warmup_s": warm,
        "per_model_step_s": blocks,
        "median_s": summarize(blocks),
        "accuracy": acc,
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def report(results: list[dict]) -> str:
    lines = []
    for res in results:
        med = res["median_s"]
        lines.append(
            f"d = {res['dim']}, batch = {res['batch']}, paperdag ε-scaling {res['scaling']:g} unless named "
            f"(median of {len(res['per_model_step_s']['ott'])} blocks; "
            f"paperdag: {res['models']['paperdag_fused']} models batched)"
        )
        for name, value in med.items():
            lines.append(
                f"  {name:21s} {1e3 * value:8.2f} ms per model-step   first step (compile) {res['first_step_s'][name]:.2f} s"
            )
        for name in med:
            if not name.startswith("ott"):
                lines.append(f"  ott / {name}: {format_ratio(med['ott'], med[name])}")
        for name in med:
            if name.startswith("ott") and name != "ott":
                lines.append(f"  {name} / paperdag_fused: {format_ratio(med[name], med['paperdag_fused'])}")
        ref = res["accuracy"]["reference"]
        lines.extend(matched_accuracy(res))
        lines.append(
            f"  accuracy vs float64 Sinkhorn (tol 1e-9): S_ε = {ref['sinkhorn_divergence']:.6g}, "
            f"MG = {ref['monge_gap']:.6g} (ε_MG = {ref['mg_eps']:.3g})"
            + (
                f"; ott_relmean's MG = {ref['monge_gap_relmean']:.6g} (its ε_MG = {ref['mg_eps_relmean']:.3g})"
                if "monge_gap_relmean" in ref
                else ""
            )
        )
        for name, vals in res["accuracy"].items():
            if name != "reference":
                extra = (
                    f"  (iterations S_ε {vals['sinkdiv_iters']} converged {vals['sinkdiv_converged']}, "
                    f"MG {vals['mg_iters']} converged {vals['mg_converged']})"
                    if name.startswith("ott")
                    else ""
                )
                lines.append(
                    f"  {name:21s} S_ε rel. err {vals['sinkhorn_divergence_rel_err']:.2e}   "
                    f"MG rel. err {vals['monge_gap_rel_err']:.2e}{extra}"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.ott_worker:
        ott_worker()
        return
    if not args.warm_compile_cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="paperdag-inductor-")
    import torch
    import yaml

    from paperdag.config import resolve_paper

    torch.set_num_threads(1)
    cfg = resolve_paper(yaml.safe_load((ROOT / "config.yaml").read_text()), "monge_gap", "default")
    worker = OttWorker(ensure_venv(args.venv))
    try:
        versions = worker(cmd="versions")
        results = [run_size(dim, batch, args, cfg, worker) for dim, batch in args.sizes]
    finally:
        worker.close()
    meta = {
        "cpu": cpu_model(),
        "torch": torch.__version__,
        **versions,
        "steps": args.steps,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "seeds": args.seeds,
        "benchmark": args.benchmark,
        "compile_cache": "warm" if args.warm_compile_cache else "cold",
        "load_average": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(
        f"{meta['cpu']}; torch {meta['torch']}, jax {meta['jax']}, ott-jax {meta['ott']}; one thread per side; "
        f"load average at the end {meta['load_average'][0]:.1f}"
    )
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=1))


if __name__ == "__main__":
    main()
