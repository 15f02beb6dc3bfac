"""GPUs: a local slot pool, and what a SLURM cluster offers.

Local runs: Snakemake does not assign devices to jobs (snakemake#281), so a job that
declares a GPU claims one here. `claim_gpus` takes an exclusive file lock per device
(one lock file per device id in a directory shared by every job on the machine), points
`CUDA_VISIBLE_DEVICES` at the devices it holds, and keeps the locks until the process
ends; the kernel drops them when the process dies, so a killed job never leaks a slot.
It must run before CUDA is initialised (before `torch.cuda.is_available()`), which is
why the devices are listed without torch. Under SLURM the scheduler already gives each
job its own devices, so the pool stands aside.

Cluster runs: `slurm_partitions()` reads `sinfo` (partitions and their GPU GRES), so a
config naming an unknown partition or GPU model, or a paper-scale run on a cluster
without GPUs, is refused before anything is submitted (`check_cluster_config`,
`gpu_shortfall`).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

log = logging.getLogger(__name__)

_HELD: list[FileLock] = []  # locks this process holds until it exits
_GPU_GRES = re.compile(r"\bgpu(?::([A-Za-z0-9_.\-]+))?:(\d+)")


def visible_devices(env: Mapping[str, str] | None = None) -> list[str]:
    """Device ids this process may use, found without initialising CUDA.

    `CUDA_VISIBLE_DEVICES` when set (an empty value means none), else the NVIDIA
    driver's list (`/proc/driver/nvidia/gpus`, or `nvidia-smi -L`), else none.
    """
    env = os.environ if env is None else env
    if "CUDA_VISIBLE_DEVICES" in env:
        return [d.strip() for d in env["CUDA_VISIBLE_DEVICES"].split(",") if d.strip() and d.strip() != "-1"]
    proc_dir = Path("/proc/driver/nvidia/gpus")
    if proc_dir.is_dir():
        return [str(i) for i in range(len(list(proc_dir.iterdir())))]
    if shutil.which("nvidia-smi"):
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
        if out.returncode == 0:
            return [str(i) for i, line in enumerate(out.stdout.splitlines()) if line.startswith("GPU ")]
    return []


def default_lock_dir() -> Path:
    """Where the slot locks live: `$PAPERDAG_GPU_LOCK_DIR`, else one folder per user in the temp dir."""
    override = os.environ.get("PAPERDAG_GPU_LOCK_DIR")
    return Path(override) if override else Path(tempfile.gettempdir()) / f"paperdag-gpu-slots-{os.getuid()}"


def claim_gpus(
    n: int = 1,
    *,
    devices: Sequence[str] | None = None,
    lock_dir: Path | None = None,
    timeout: float | None = None,
    poll: float = 1.0,
) -> list[str]:
    """Hold `n` free devices for the rest of this process and expose only them to CUDA.

    Waits (polling every `poll` s) while all devices are taken; raises `TimeoutError`
    after `timeout` s (None: wait for ever). Calling again in a process that already
    holds devices returns them. Under SLURM (`SLURM_JOB_ID` set) nothing is locked: the
    devices SLURM gave the job are returned as they are.
    """
    if _HELD:
        return visible_devices()
    if "SLURM_JOB_ID" in os.environ:
        return visible_devices()
    pool = list(visible_devices() if devices is None else devices)
    if n > len(pool):
        raise RuntimeError(f"this job needs {n} GPU(s) but only {len(pool)} are visible ({pool})")
    lock_dir = Path(lock_dir or default_lock_dir())
    lock_dir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    warned = False
    while True:
        held: list[tuple[str, FileLock]] = []
        for dev in pool:
            lock = FileLock(str(lock_dir / f"gpu{dev}.lock"))
            try:
                lock.acquire(timeout=0)
            except Timeout:
                continue
            held.append((dev, lock))
            if len(held) == n:
                break
        if len(held) == n:
            _HELD.extend(lock for _, lock in held)
            chosen = [dev for dev, _ in held]
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(chosen)
            log.info("GPU slot(s) %s claimed (locks in %s)", ",".join(chosen), lock_dir)
            return chosen
        for _, lock in held:
            lock.release()
        if timeout is not None and time.monotonic() - start >= timeout:
            raise TimeoutError(f"no {n} free GPU(s) among {pool} after {timeout:.0f} s (locks in {lock_dir})")
        if not warned:
            log.info("all GPU slots busy (%s); waiting for one to free up", ",".join(pool))
            warned = True
        time.sleep(poll)


def release_gpus() -> None:
    """Give back the slots this process holds (normally the process exit does it)."""
    while _HELD:
        _HELD.pop().release()


# --- SLURM -------------------------------------------------------------------------


@dataclass
class Partition:
    """A SLURM partition as `sinfo` shows it: its name and the GPUs of its nodes."""

    name: str
    default: bool = False
    gpus: int = 0
    gpu_models: set[str] = field(default_factory=set)


def parse_sinfo(text: str) -> dict[str, Partition]:
    """Parse `sinfo -h -o '%P|%D|%G'` (partition, node count, GRES per node) lines."""
    parts: dict[str, Partition] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, nodes, gres = (line.split("|") + ["", ""])[:3]
        default = name.endswith("*")
        name = name.rstrip("*")
        part = parts.setdefault(name, Partition(name))
        part.default = part.default or default
        n_nodes = int(nodes) if nodes.strip().isdigit() else 1
        for model, count in _GPU_GRES.findall(gres):
            part.gpus += int(count) * n_nodes
            if model:
                part.gpu_models.add(model)
    return parts


def slurm_partitions(timeout: float = 30) -> dict[str, Partition] | None:
    """The cluster's partitions, or None where `sinfo` is missing or fails (nothing to check against)."""
    if not shutil.which("sinfo"):
        return None
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%P|%D|%G"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_sinfo(out.stdout) if out.returncode == 0 else None


def target_partition(cluster: Mapping[str, Any], parts: Mapping[str, Partition] | None) -> str | None:
    """The partition jobs go to: config `cluster.partition`, else the environment, else the cluster default."""
    name = cluster.get("partition") or os.environ.get("PAPERDAG_SLURM_PARTITION") or os.environ.get("SBATCH_PARTITION")
    if name:
        return str(name)
    return next((p.name for p in (parts or {}).values() if p.default), None)


def check_cluster_config(cluster: Mapping[str, Any], parts: Mapping[str, Partition] | None) -> None:
    """Raise ValueError (naming the key) for a partition or GPU model the cluster does not have."""
    if parts is None:
        return
    partition = target_partition(cluster, parts)
    if partition is not None and partition not in parts:
        where = "cluster.partition" if cluster.get("partition") else "the partition from the environment"
        raise ValueError(f"config error at '{where}': unknown partition '{partition}' on this cluster "
                         f"(partitions: {', '.join(sorted(parts)) or 'none'})")
    model = cluster.get("gpu_model")
    if model and partition is not None:
        models = parts[partition].gpu_models
        if model not in models:
            raise ValueError(f"config error at 'cluster.gpu_model': unknown GPU model '{model}' on partition "
                             f"'{partition}' (GPU models there: {', '.join(sorted(models)) or 'none'})")


def gpu_shortfall(gpu_rules: Sequence[str], *, scale: str, allow_cpu: bool, available: int | None) -> str | None:
    """The refusal message when rules need GPUs but none are available (None: fine to go).

    `available` is the GPU count of the target (local devices, or the partition's GPUs);
    None means it cannot be known, and the run goes ahead.
    """
    if not gpu_rules or allow_cpu or available is None or available > 0:
        return None
    return (f"scale '{scale}' declares GPUs for rule(s) {', '.join(sorted(gpu_rules))}, but no GPU is available "
            "here; nothing was run or submitted. Run on a machine or partition with GPUs, or set "
            "`allow_cpu: true` (e.g. --config allow_cpu=True) to train them on CPU.")
