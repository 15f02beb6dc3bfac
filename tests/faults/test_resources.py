"""The up-front memory check: what is available, the estimate, and the refusal message."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from paperdag.resources import ENV_OVERRIDE, MemoryRefusal, available_mb, check_memory, estimate_mb


def fake_proc(tmp_path: Path, mem_available_kb: int, cgroup: dict[str, str] | None = None) -> tuple[Path, Path]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(f"MemTotal:       99999999 kB\nMemAvailable:   {mem_available_kb} kB\n")
    root = tmp_path / "cgroup"
    for name, text in (cgroup or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return meminfo, root


def test_available_is_the_smaller_of_meminfo_and_cgroup_room(tmp_path):
    meminfo, cg = fake_proc(tmp_path, 8 * 1024 * 1024, {"memory.max": str(3 * 2**30), "memory.current": str(2**30)})
    assert available_mb({}, meminfo, cg) == pytest.approx(2048)
    meminfo, cg = fake_proc(tmp_path, 1024 * 1024, {"memory.max": "max", "memory.current": "5"})
    assert available_mb({}, meminfo, cg) == pytest.approx(1024)
    meminfo, cg = fake_proc(tmp_path / "v1", 8 * 1024 * 1024, {"memory/memory.limit_in_bytes": str(2**31),
                                                                "memory/memory.usage_in_bytes": "0"})
    assert available_mb({}, meminfo, cg) == pytest.approx(2048)


def test_override_and_its_validation(tmp_path):
    meminfo, cg = fake_proc(tmp_path, 1024)
    assert available_mb({ENV_OVERRIDE: "123456"}, meminfo, cg) == 123456
    with pytest.raises(MemoryRefusal, match=ENV_OVERRIDE):
        available_mb({ENV_OVERRIDE: "lots"}, meminfo, cg)


def test_estimate_uses_the_papers_hook_else_the_declared_memory():
    with_hook = SimpleNamespace(memory_mb=lambda cfg: cfg["batch"] * 0.5)
    assert estimate_mb(with_hook, {"batch": 1000}, 32000) == (500.0, "estimated from its config")
    assert estimate_mb(SimpleNamespace(), {"batch": 1000}, 32000)[0] == 32000.0


def test_refusal_names_each_paper_with_its_estimate_and_what_is_available():
    estimates = {"monge_gap": (32000.0, "declared"), "cs_ib": (1500.0, "declared"), "gda": (40000.0, "hook")}
    check_memory(estimates, available=50000, scale="paper")  # fits: no error
    with pytest.raises(MemoryRefusal) as err:
        check_memory(estimates, available=16000, scale="paper")
    msg = str(err.value)
    assert "32,000 MB" in msg and "40,000 MB" in msg and "16,000 MB" in msg and "'paper'" in msg
    assert "monge_gap" in msg and "gda" in msg and "cs_ib" not in msg
