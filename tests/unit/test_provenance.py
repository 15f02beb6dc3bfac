"""Provenance: the GPU driver version from nvidia-smi, or None where it cannot be read."""
from __future__ import annotations

from pathlib import Path

from paperdag.provenance import gpu_driver_version


def test_driver_version_from_nvidia_smi(tmp_path: Path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text('#!/bin/sh\n[ "$1" = "--query-gpu=driver_version" ] && echo "550.54.15" && echo "550.54.15"\n')
    fake.chmod(0o755)
    assert gpu_driver_version(str(fake)) == "550.54.15"


def test_no_driver_reads_as_none(tmp_path: Path):
    failing = tmp_path / "nvidia-smi"
    failing.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    failing.chmod(0o755)
    assert gpu_driver_version(str(failing)) is None
    assert gpu_driver_version(str(tmp_path / "absent")) is None
