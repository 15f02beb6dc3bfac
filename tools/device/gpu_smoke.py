"""GPU smoke check: run the GPU-declaring training stages on CUDA, a few steps each.

Two parts, each job a separate process (as Snakemake would run it) through the same
adapter the rules use (`workflow/scripts/stage.py`), with GPUs declared (`--gpu 1`):

* `correctness`: smoke-scale (or shortened default-scale) training stages of every paper,
  forced onto the GPU: do they run there at all (device placement, deterministic CUDA ops)?
* `paper`: paper-scale model sizes for a few hundred steps: time per step, GPU memory,
  and for the transformer LMs tokens/s and MFU against the GPU's measured float32 peak.

Writes `<out>/summary.tsv` (job, rc, wall seconds), `<out>/logs.txt` (every job's log) and
`<out>/results.tar.gz` (metrics.json + provenance.json of every run). Usage:

    python tools/device/gpu_smoke.py --out /tmp/gpu_smoke            # on a GPU machine
    python tools/device/gpu_smoke.py --out /tmp/x --check             # only build and validate the jobs

Shortened runs write to `results/smoke` and `results/paper` of the copy they run in;
they are checks, not results (their provenance records the changed settings' hash).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGE = [sys.executable, str(ROOT / "workflow" / "scripts" / "stage.py")]

# (name, paper, stage, scale, wildcards, settings); paper-scale LM sweeps read the synthetic
# `hier` source (C4 needs its download and tokenisation, which a bare GPU machine cannot do)
CORRECTNESS = [
    ("mg_smoke_maps", "monge_gap", "train", "smoke", ["benchmark=gaussian", "job=maps"], []),
    ("mg_smoke_icnn", "monge_gap", "train", "smoke", ["benchmark=gaussian", "job=icnn"], []),
    ("fd_smoke_toy", "f_distill", "toy", "smoke", ["init=normal"], []),
    ("gf_smoke_cons", "gauge_freedom", "train", "smoke", ["manifold=sphere", "kind=conservative"], []),
    ("sw_smoke_all", "scaling_wisdom", "train", "smoke", ["job=all"], []),
    ("csib_digits", "cs_ib", "train", "default", ["dataset=digits_rot"], ["training.max_steps=40"]),
    ("gda_digits8", "gda", "augment", "default", ["dataset=digits8"],
     ["digits.sizes=[100]", "digits.seeds=[0]", "digits.cgan.steps=200", "digits.classifier.epochs=20"]),
]
PAPER = [
    ("sw_paper_w512", "scaling_wisdom", "train", "paper", ["job=sweep_512"],
     ["jobs.sweep_512=[sweep/hier/512]", "seeds=[0]", "lr_grid=[0.003]", "train.batch=64", "train.tokens=6553600",
      "n_eval_seqs=64"]),
    ("sw_paper_w1024_x4", "scaling_wisdom", "train", "paper", ["job=sweep_1024"],
     ["jobs.sweep_1024=[sweep/hier/1024]", "seeds=[0,1]", "lr_grid=[0.001,0.003]", "train.batch=16",
      "train.tokens=819200", "n_eval_seqs=32"]),
    ("gf_paper_sphere10", "gauge_freedom", "train", "paper", ["manifold=sphere10", "kind=conservative"],
     ["training.steps=300", "training.checkpoint_every=1000"]),
    ("mg_paper_maps", "monge_gap", "train", "paper", ["benchmark=gaussian", "job=maps"],
     ["training.steps=200"]),
    ("fd_paper_toy", "f_distill", "toy", "paper", ["init=normal"], ["toy.student_steps=300", "toy.eval_steps=[0,250]"]),
    # CIFAR-10 is not downloadable there: a random stand-in of the real size (`fake_cifar`), 1 epoch each
    ("gda_paper_cdcgan", "gda", "cdcgan", "paper", ["generator=cdcgan", "seed=1"], ["cifar.cdcgan.epochs=1"]),
    ("gda_paper_resnet18", "gda", "augment_cifar", "paper", ["aug=base", "generator=cdcgan", "ngen=100000", "seed=1"],
     ["cifar.classifier.epochs=1"]),
]
FAKE_CIFAR = "results/paper/gda/downloads/cifar10/manifest.json"  # what `fake_cifar` writes


def fake_cifar(root: Path = ROOT, n_train: int = 50_000, n_test: int = 10_000) -> None:
    """Random images in CIFAR-10's binary layout where the `download` stage would unpack the real ones.

    For timing and device checks only: its accuracies mean nothing.
    """
    import json

    import numpy as np

    manifest = root / FAKE_CIFAR
    folder = manifest.parent / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sizes = [(f"data_batch_{i}.bin", n_train // 5) for i in range(1, 6)] + [("test_batch.bin", n_test)]
    for name, n in sizes:
        labels = (np.arange(n) % 10).astype(np.uint8)[:, None]
        np.concatenate([labels, rng.integers(0, 256, (n, 3072), dtype=np.uint8)], axis=1).tofile(folder / name)
    manifest.write_text(json.dumps({"archive": "fake (random images)", "sha256": "", "root": "."}))


def command(paper: str, stage: str, scale: str, wildcards: list[str], settings: list[str],
            allow_cpu: bool = False) -> list[str]:
    sets = [a for s in settings for a in ("--set", s)]
    return [*STAGE, paper, stage, *wildcards, "--scale", scale, "--gpu", "1", *sets] + (["--allow-cpu"] if allow_cpu else [])


def check(jobs) -> int:
    """Build every job as the adapter would (config overrides validated), without running it."""
    sys.path.insert(0, str(ROOT / "src"))
    from paperdag.stage import job_from_spec

    made = {FAKE_CIFAR}
    for name, paper, stage, scale, wildcards, settings in jobs:
        job = job_from_spec(paper, stage, scale, dict(w.split("=", 1) for w in wildcards), ROOT / "config.yaml",
                            settings=settings, gpus=1)
        missing = [p for p in job.inputs if not p.endswith(".py") and p not in made]
        if missing:  # a bare machine has only what this script makes
            raise SystemExit(f"{name} needs inputs no earlier job of this script makes: {missing[:3]}")
        made.update(job.outputs)
        print(f"ok {name}: {len(job.outputs)} outputs, config {job.config_hash}")
    return 0


def run(jobs, out: Path, budget_s: float, allow_cpu: bool = False) -> int:
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if any(paper == "gda" and stage != "augment" for _, paper, stage, *_ in jobs):
        fake_cifar()
    start, failures = time.perf_counter(), 0
    with open(out / "summary.tsv", "w") as summary, open(out / "logs.txt", "w") as logs:
        summary.write("job\trc\twall_s\n")
        for name, paper, stage, scale, wildcards, settings in jobs:
            left = budget_s - (time.perf_counter() - start)
            if left < 20:
                summary.write(f"{name}\tskipped (budget)\t\n")
                continue
            argv = command(paper, stage, scale, wildcards, settings, allow_cpu)
            logs.write(f"\n===== {name}: {' '.join(argv[1:])}\n")
            logs.flush()
            t0 = time.perf_counter()
            try:
                rc = subprocess.run(argv, cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
                                    timeout=min(240, left)).returncode
            except subprocess.TimeoutExpired:
                rc = "timeout"
            wall = time.perf_counter() - t0
            failures += rc != 0
            summary.write(f"{name}\t{rc}\t{wall:.1f}\n")
            summary.flush()
            print(f"{name}: rc={rc} wall={wall:.1f}s", flush=True)
    with tarfile.open(out / "results.tar.gz", "w:gz") as tar:
        for path in sorted((ROOT / "results").rglob("*")):
            if path.name in ("metrics.json", "provenance.json") and ".ckpt" not in path.parts:
                tar.add(path, arcname=str(path.relative_to(ROOT)))
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--part", choices=["all", "correctness", "paper"], default="all")
    parser.add_argument("--check", action="store_true", help="build and validate the jobs only")
    parser.add_argument("--allow-cpu", action="store_true", help="rehearse on a machine without a GPU")
    parser.add_argument("--budget", type=float, default=480.0, help="seconds for all jobs together")
    args = parser.parse_args()
    jobs = {"all": CORRECTNESS + PAPER, "correctness": CORRECTNESS, "paper": PAPER}[args.part]
    return check(jobs) if args.check else run(jobs, args.out, args.budget, args.allow_cpu)


if __name__ == "__main__":
    sys.exit(main())
