"""The hashed lock files agree with what the project asks for and with the venv the tests run in."""

from __future__ import annotations

import hashlib
import re
from importlib import metadata
from pathlib import Path

import pytest

ENVS = Path(__file__).resolve().parents[2] / "envs"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name → version of every `name==version` line (comments and hash lines skipped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def hashed_entries(path: Path) -> list[tuple[str, int]]:
    """(package, number of sha256 hashes) per entry of a uv/pip-compile lock."""
    entries, current = [], None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = [canonical(match.group(1)), 0]
            entries.append(current)
        elif current is not None and "--hash=sha256:" in line:
            current[1] += 1
    return [(name, count) for name, count in entries]


@pytest.mark.parametrize("variant, torch", [("cpu", "2.13.0+cpu"), ("cuda", "2.13.0")])
def test_lock_pins_every_requirement_at_its_version(variant: str, torch: str) -> None:
    wanted = pins(ENVS / "requirements.txt")
    locked = pins(ENVS / f"lock-{variant}.txt")
    assert locked["torch"] == torch
    stale = {
        name: (version, locked.get(name)) for name, version in wanted.items() if name != "torch" and locked.get(name) != version
    }
    assert not stale, f"envs/lock-{variant}.txt disagrees with envs/requirements.txt (run `make lock`): {stale}"


def test_nodeps_lock_matches_its_requirements() -> None:
    assert pins(ENVS / "lock-nodeps.txt") == pins(ENVS / "requirements-nodeps.txt")


@pytest.mark.parametrize("lock", ["lock-cpu.txt", "lock-cuda.txt", "lock-nodeps.txt"])
def test_every_locked_package_has_a_hash(lock: str) -> None:
    entries = hashed_entries(ENVS / lock)
    assert len(entries) == len(pins(ENVS / lock)) > 0
    assert not [name for name, count in entries if count == 0]


def test_conda_post_deploy_names_the_current_locks() -> None:
    """`make lock` stamps the locks' digests into the post-deploy script, so that a changed lock
    changes the script Snakemake hashes and the conda environment is rebuilt."""
    script = (ENVS / "paperdag.post-deploy.sh").read_text()
    for lock in ("lock-cpu.txt", "lock-cuda.txt", "lock-nodeps.txt"):
        digest = hashlib.sha256((ENVS / lock).read_bytes()).hexdigest()[:12]
        assert f"envs/{lock}={digest}" in script, f"run `make lock`: {lock} changed since the script was stamped"


def test_the_test_venv_is_the_locked_environment() -> None:
    """Every package of the CPU lock is installed at its locked version (`make` set-up installs
    from it); a venv that drifted from the lock would test something else."""
    drift = {}
    for name, version in {**pins(ENVS / "lock-cpu.txt"), **pins(ENVS / "lock-nodeps.txt")}.items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            drift[name] = (version, installed)
    if "torch" in drift and drift["torch"][1] and drift["torch"][1].split("+")[0] == "2.13.0":
        drift.pop("torch")  # a CUDA image's own build of the same release (TORCH=cuda)
    assert not drift, f"installed packages differ from envs/lock-cpu.txt: {drift}"
