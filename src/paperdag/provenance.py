"""What was run, where and how: written as provenance.json beside every run's metrics."""
from __future__ import annotations

import functools
import hashlib
import os
import platform
import resource
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = ("torch", "lightning", "geomloss", "numpy", "scipy", "pandas", "snakemake", "paperdag")


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """The current commit and whether the work tree differs from it."""
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name: byte-identical reruns hold only on the same CPU (and instruction set)."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.cache  # the installed set does not change within a job; reading it costs ~0.7 s per call
def environment_digest() -> str:
    """sha256 of every installed distribution's name==version, sorted: two runs with the same digest
    ran on the same set of packages, transitive ones included."""
    names = sorted(f"{d.metadata['Name']}=={d.version}".lower() for d in metadata.distributions() if d.metadata["Name"])
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def host_description() -> dict[str, Any]:
    """Where the job ran: the host, and under SLURM its job id and node."""
    info: dict[str, Any] = {"host": platform.node()}
    for key, env in (("slurm_job_id", "SLURM_JOB_ID"), ("slurm_node", "SLURMD_NODENAME")):
        if os.environ.get(env):
            info[key] = os.environ[env]
    return info


@functools.cache
def gpu_driver_version(nvidia_smi: str = "nvidia-smi") -> str | None:
    """The NVIDIA driver version (`nvidia-smi`), or None where there is no such tool or it fails."""
    try:
        out = subprocess.run([nvidia_smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def device_description() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "python": sys.version.split()[0], "cpu": cpu_model()}
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = torch.__version__  # the build actually imported (e.g. a +cu wheel on a GPU image)
        info["torch_threads"] = torch.get_num_threads()
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()  # the kernels' instruction set
        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            info["cuda_device"] = torch.cuda.get_device_name(0)
            info["cuda_version"] = torch.version.cuda
            info["gpu_uuid"] = str(getattr(props, "uuid", ""))
            info["gpu_driver"] = gpu_driver_version()
    return info


def peak_memory_mb() -> float:
    """Peak resident memory of this process (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def provenance_record(*, config_hash: str, seed: int | None, wall_time_s: float, extra: dict | None = None) -> dict:
    record = {
        "git": git_state(),
        "config_hash": config_hash,
        "seed": seed,
        "packages": package_versions(),
        "device": device_description(),
        "host": host_description(),
        "environment_digest": environment_digest(),
        "wall_time_s": round(wall_time_s, 3),
        "peak_memory_mb": round(peak_memory_mb(), 1),
    }
    record.update(extra or {})
    return record
