"""Up-front memory check: refuse a config whose largest job cannot fit in this machine's memory.

Light on purpose (no torch): `workflow/rules/guards.smk` calls it before the first job starts.

The estimate of a paper is the peak memory of its largest job at the active scale:
the paper's own `spec.memory_mb(cfg) -> float` where the spec defines one (computed from
the config: batch sizes, widths, evaluation sizes), otherwise the memory its heavy jobs
declare to the scheduler at that scale (`mem_mb` in `workflow/rules/common.smk`).
What is available is the smaller of the kernel's `MemAvailable` and the room left under
this process's cgroup limit; `PAPERDAG_MEMORY_MB` overrides it (e.g. to state the share
of a machine that a run may use).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

ENV_OVERRIDE = "PAPERDAG_MEMORY_MB"


class MemoryRefusal(RuntimeError):
    """The config's memory estimate exceeds what this machine has; the message gives both."""


def _meminfo_available_mb(meminfo: Path) -> float | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _cgroup_room_mb(cgroup_root: Path) -> float | None:
    """Room left under a cgroup v2 (memory.max) or v1 (memory.limit_in_bytes) limit, if any."""
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            limit = (cgroup_root / limit_file).read_text().strip()
            usage = int((cgroup_root / usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit == "max" or int(limit) >= 1 << 60:  # no limit
            return None
        return (int(limit) - usage) / 2**20
    return None


def available_mb(env: Mapping[str, str] | None = None, meminfo: Path = Path("/proc/meminfo"),
                 cgroup_root: Path = Path("/sys/fs/cgroup")) -> float:
    """Memory this run may use, in MB (see the module docstring)."""
    env = os.environ if env is None else env
    if env.get(ENV_OVERRIDE):
        try:
            return float(env[ENV_OVERRIDE])
        except ValueError:
            raise MemoryRefusal(f"{ENV_OVERRIDE}={env[ENV_OVERRIDE]!r} is not a number of MB") from None
    found = [v for v in (_meminfo_available_mb(meminfo), _cgroup_room_mb(cgroup_root)) if v is not None]
    return min(found) if found else float("inf")


def estimate_mb(spec: ModuleType, cfg: Mapping[str, Any], declared_mb: float) -> tuple[float, str]:
    """(estimated peak MB of the paper's largest job, where the number comes from)."""
    hook = getattr(spec, "memory_mb", None)
    if callable(hook):
        return float(hook(cfg)), "estimated from its config"
    return float(declared_mb), "declared per job (mem_mb) at this scale"


def check_memory(estimates: Mapping[str, tuple[float, str]], available: float, scale: str) -> None:
    """Raise `MemoryRefusal` naming every paper whose largest job needs more than `available` MB."""
    over = {paper: est for paper, est in estimates.items() if est[0] > available}
    if not over:
        return
    lines = [f"  {paper}: {mb:,.0f} MB ({source})" for paper, (mb, source) in sorted(over.items())]
    raise MemoryRefusal(
        f"refusing to start: at scale '{scale}' the largest job of {len(over)} paper(s) needs more memory than "
        f"this machine has available ({available:,.0f} MB):\n" + "\n".join(lines) +
        "\nRun a smaller scale (--config scale=default or scale=smoke), run on the cluster "
        "(--workflow-profile profiles/slurm), or leave out those papers (--config 'papers=[...]').")
