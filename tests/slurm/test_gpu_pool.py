"""paperdag.gpu without a cluster or a GPU: the slot pool, sinfo parsing, and the up-front refusals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from paperdag import gpu

SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(autouse=True)
def _clean_pool(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    gpu.release_gpus()
    yield
    gpu.release_gpus()


def holder(lock_dir: Path, devices: str) -> subprocess.Popen:
    """Another process that claims one of `devices` and holds it until killed; prints its device."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        from paperdag import gpu
        print(gpu.claim_gpus(1, devices={devices.split(',')!r}, lock_dir={str(lock_dir)!r})[0], flush=True)
        time.sleep(600)
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("SLURM_JOB_ID", "CUDA_VISIBLE_DEVICES")}
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)


def test_visible_devices_reads_cuda_visible_devices():
    assert gpu.visible_devices({"CUDA_VISIBLE_DEVICES": "2,5"}) == ["2", "5"]
    assert gpu.visible_devices({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert gpu.visible_devices({"CUDA_VISIBLE_DEVICES": "-1"}) == []


def test_two_jobs_never_share_a_device_and_a_killed_job_frees_its_slot(tmp_path, monkeypatch):
    other = holder(tmp_path, "0,1")
    try:
        taken = other.stdout.readline().strip()
        assert taken == "0"
        # This process gets the other card, and CUDA sees only that one.
        assert gpu.claim_gpus(1, devices=["0", "1"], lock_dir=tmp_path) == ["1"]
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "1"
        gpu.release_gpus()
        # With only the busy card in the pool, a claim waits, then times out.
        with pytest.raises(TimeoutError, match="no 1 free GPU"):
            gpu.claim_gpus(1, devices=["0"], lock_dir=tmp_path, timeout=0.5, poll=0.1)
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
    # SIGKILL released the holder's lock: the card is free again.
    assert gpu.claim_gpus(1, devices=["0"], lock_dir=tmp_path, timeout=5, poll=0.1) == ["0"]


def test_claim_is_idempotent_and_steps_aside_under_slurm(tmp_path, monkeypatch):
    assert gpu.claim_gpus(1, devices=["3", "4"], lock_dir=tmp_path) == ["3"]
    assert gpu.claim_gpus(1, devices=["3", "4"], lock_dir=tmp_path) == ["3"]
    gpu.release_gpus()
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "7")
    assert gpu.claim_gpus(1, devices=["3"], lock_dir=tmp_path) == ["7"]
    # No lock was taken under SLURM: another process can still claim device 3 at once.
    other = holder(tmp_path, "3")
    try:
        assert other.stdout.readline().strip() == "3"
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()


def test_claim_more_gpus_than_visible_fails_clearly(tmp_path):
    with pytest.raises(RuntimeError, match="needs 2 GPU"):
        gpu.claim_gpus(2, devices=["0"], lock_dir=tmp_path)


def test_choose_accelerator_without_gpu(monkeypatch):
    from paperdag.training import AcceleratorError, choose_accelerator

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert choose_accelerator(False, False) == "cpu"
    assert choose_accelerator(True, True) == "cpu"
    with pytest.raises(AcceleratorError, match="allow_cpu"):
        choose_accelerator(True, False)


SINFO = "debug*|1|gpu:tesla:2\ncpu|3|(null)\nbig|2|gpu:a100:4(S:0-1),nvme:1\nbig|1|gpu:h100:8\nplain|1|gpu:2\n"


def test_parse_sinfo():
    parts = gpu.parse_sinfo(SINFO)
    assert set(parts) == {"debug", "cpu", "big", "plain"}
    assert parts["debug"].default and not parts["cpu"].default
    assert (parts["debug"].gpus, parts["debug"].gpu_models) == (2, {"tesla"})
    assert parts["cpu"].gpus == 0
    assert (parts["big"].gpus, parts["big"].gpu_models) == (16, {"a100", "h100"})
    assert (parts["plain"].gpus, parts["plain"].gpu_models) == (2, set())


def test_cluster_config_checks(monkeypatch):
    monkeypatch.delenv("PAPERDAG_SLURM_PARTITION", raising=False)
    monkeypatch.delenv("SBATCH_PARTITION", raising=False)
    parts = gpu.parse_sinfo(SINFO)
    gpu.check_cluster_config({}, parts)
    gpu.check_cluster_config({"partition": "big", "gpu_model": "h100"}, parts)
    gpu.check_cluster_config({"partition": "nope"}, None)  # no sinfo: nothing to check against
    with pytest.raises(ValueError, match=r"'cluster.partition': unknown partition 'nope'.*big, cpu, debug, plain"):
        gpu.check_cluster_config({"partition": "nope"}, parts)
    with pytest.raises(ValueError, match=r"'cluster.gpu_model': unknown GPU model 'v100' on partition 'debug'"):
        gpu.check_cluster_config({"gpu_model": "v100"}, parts)
    monkeypatch.setenv("PAPERDAG_SLURM_PARTITION", "gone")
    with pytest.raises(ValueError, match="partition from the environment"):
        gpu.check_cluster_config({}, parts)
    assert gpu.target_partition({"partition": "big"}, parts) == "big"


def test_gpu_shortfall():
    rules = ["b_train", "a_train"]
    msg = gpu.gpu_shortfall(rules, scale="paper", allow_cpu=False, available=0)
    assert "a_train, b_train" in msg and "allow_cpu" in msg and "nothing was run" in msg
    assert gpu.gpu_shortfall(rules, scale="paper", allow_cpu=True, available=0) is None
    assert gpu.gpu_shortfall(rules, scale="paper", allow_cpu=False, available=2) is None
    assert gpu.gpu_shortfall(rules, scale="paper", allow_cpu=False, available=None) is None
    assert gpu.gpu_shortfall([], scale="default", allow_cpu=False, available=0) is None
