"""The paper-scale CIFAR-10 pieces of `gda`: loader, ResNet-18, cDCGAN, and the two stages on a tiny fake CIFAR."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from paperdag.papers.gda import spec
from paperdag.papers.gda.cifar import load_archive, load_dir
from paperdag.papers.gda.dcgan import Discriminator, Generator
from paperdag.papers.gda.resnet import ResNet18
from paperdag.stage import Job

torch.set_num_threads(1)


def fake_cifar_tarball(path: Path, per_batch: int = 10, n_test: int = 10) -> Path:
    """The layout of cifar-10-binary.tar.gz: cifar-10-batches-bin/{data_batch_1..5, test_batch}.bin, 3,073-byte records."""
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tf:
        for name, n in [(f"data_batch_{i}.bin", per_batch) for i in range(1, 6)] + [("test_batch.bin", n_test)]:
            records = np.concatenate(
                [(np.arange(n) % 10).astype(np.uint8)[:, None], rng.integers(0, 256, (n, 3072), dtype=np.uint8)], axis=1
            )
            blob = records.tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    return path


def test_cifar_loader_reads_the_binary_batches(tmp_path: Path) -> None:
    archive = fake_cifar_tarball(tmp_path / "cifar-10-binary.tar.gz", per_batch=20, n_test=30)
    data = load_archive(archive, tmp_path / "cifar10")
    assert data.x_train.shape == (100, 3, 32, 32) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (30, 3, 32, 32) and data.y_test.dtype == np.int64
    assert np.bincount(data.y_train).tolist() == [10] * 10
    with tarfile.open(archive) as tf:  # record = label byte, then the red plane first
        raw = np.frombuffer(tf.extractfile("cifar-10-batches-bin/data_batch_2.bin").read(), dtype=np.uint8)
    np.testing.assert_array_equal(data.x_train[20, 0].ravel(), raw[1:1025])
    assert data.y_train[21] == raw[3073]


def test_cifar_loader_rejects_a_truncated_batch(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "data_batch_1.bin").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="3073-byte"):
        load_dir(tmp_path)


def test_resnet18_is_the_cifar_variant() -> None:
    net = ResNet18()
    assert sum(p.numel() for p in net.parameters()) == 11_173_962
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in net.modules())
    with torch.no_grad():
        assert net.eval()(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_cdcgan_shapes_range_and_label_dependence() -> None:
    torch.manual_seed(0)
    G, D = Generator(z_dim=16, width=8), Discriminator(width=8).eval()
    y = torch.arange(10) % 10
    with torch.no_grad():
        x = G(torch.randn(10, 16), y)
        assert x.shape == (10, 3, 32, 32) and x.min() >= -1 and x.max() <= 1
        logits = D(x[:1].expand(10, -1, -1, -1), y)  # one image under every label
    assert logits.shape == (10,) and float(logits.std()) > 1e-4


def test_cifar_stages_end_to_end_on_fake_cifar(tmp_path: Path, monkeypatch) -> None:
    from paperdag.data import safe_extract
    from paperdag.papers.gda.cifar_stages import augment_cifar, cdcgan

    monkeypatch.chdir(tmp_path)
    root = Path("results/paper/gda")
    archive = fake_cifar_tarball(tmp_path / "cifar-10-binary.tar.gz")
    manifest = root / spec.CIFAR_MANIFEST
    safe_extract(archive, manifest.parent)  # what the download stage does after its checked fetch
    manifest.write_text(json.dumps({"archive": archive.name, "root": "."}))
    cifar = {
        "m": 50,
        "seeds": [1],
        "augmentations": ["base"],
        "generators": ["cdcgan"],
        "n_generated": [0, 20],
        "cdcgan": {"epochs": 1, "batch": 25, "lr": 2e-4, "beta1": 0.5, "z_dim": 8, "width": 4, "checkpoint_every": 100},
        "classifier": {
            "epochs": 1,
            "batch": 35,
            "lr": 0.2,
            "momentum": 0.9,
            "weight_decay": 5e-4,
            "pct_start": 0.025,
            "checkpoint_every": 100,
        },
        "eval_batch": 40,
        "sample": {"mode": "train", "batch": 500},
    }
    cfg = {"cifar": cifar}
    gen_wc = {"generator": "cdcgan", "seed": "1"}
    gen_out = str(root / spec.CIFAR_GENERATOR.format(**gen_wc))
    cdcgan(
        Job(
            "gda",
            "cdcgan",
            "paper",
            spec.job_config(cfg, "cdcgan", gen_wc),
            gen_wc,
            inputs=[str(manifest)],
            outputs=[gen_out],
            resources={"gpu": 1},
            allow_cpu=True,
        )
    )
    run_wc = {"aug": "base", "generator": "cdcgan", "ngen": "20", "seed": "1"}
    run_out = str(root / spec.CIFAR_RUN.format(**run_wc))
    augment_cifar(
        Job(
            "gda",
            "augment_cifar",
            "paper",
            spec.job_config(cfg, "augment_cifar", run_wc),
            run_wc,
            inputs=[str(manifest), gen_out],
            outputs=[run_out],
            resources={"gpu": 1},
            allow_cpu=True,
        )
    )
    metrics = json.loads(Path(run_out).read_text())
    assert metrics["experiment"] == "cifar" and metrics["n_generated"] == 20 and metrics["epochs"] == 1
    assert 0 <= metrics["test_acc"] <= 1 and metrics["acc_gap"] == pytest.approx(abs(metrics["train_acc"] - metrics["test_acc"]))
    assert [c["ngen"] for c in spec.cifar_cells({"cifar": {**cifar, "augmentations": ["none", "base"]}})] == [0, 20, 0, 20]
    # sampled as main_aug.py does: train-mode batch norm, single-class batches; eval mode gives other images
    from paperdag.papers.gda.cifar_stages import generate

    x_train, y_train = generate(Path(gen_out), 40, 0, "cpu", "train", 3)
    x_eval, y_eval = generate(Path(gen_out), 40, 0, "cpu", "eval", 3)
    assert list(y_train) == [c for c in range(10) for _ in range(4)] and list(y_eval) == list(y_train)
    assert x_train.shape == (40, 3, 32, 32) and x_train.dtype == np.uint8
    assert np.abs(x_train.astype(float) - x_eval.astype(float)).mean() > 1.0
    with pytest.raises(ValueError, match="multiple of the 10 classes"):
        generate(Path(gen_out), 15, 0, "cpu")
