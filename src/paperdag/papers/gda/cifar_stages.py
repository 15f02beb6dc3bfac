"""Paper scale: CIFAR-10, a conditional DCGAN, and ResNet-18 trained on real + generated images.

Protocol §2.2 / §4 (`ML-GSAI/Understanding-GDA`): the cDCGAN (`main_train_CDCGAN.py`: Adam 2e-4,
β₁ 0.5, batch 64, BCE, width 128, z 100, 200 epochs) is fitted on the real training images; m_G
class-balanced images are drawn from it as `main_aug.py` draws them (train-mode batch norm,
single-class batches of 500) and quantised to uint8, as the paper's npz sets are;
ResNet-18 is trained on the real and generated images concatenated and shuffled (SGD momentum
0.9, weight decay 5e-4, OneCycle max lr 0.2 with pct_start 0.025 stepped once per epoch, batch 512,
100 epochs), with augmentation `none` or `base` (random crop, padding 4, and horizontal flip),
CIFAR mean/std normalisation. One metrics.json per run: final train (real + generated, train
transforms) and test accuracy / loss and their gaps; no best-test-accuracy selection (protocol §6).

Not built: the published StyleGAN2-ADA generator (NVIDIA's `cifar10.pkl`, URL in config) can only
be unpickled with NVIDIA's own `dnnlib`/`torch_utils` code, so it is recorded in config as not
built and no stage uses it; neither is the EDM 5M-sample set.

Epochs are converted to optimiser steps: ResNet-18 takes ceil(n / batch) steps per epoch over a
fresh permutation drawn from `step_generator(seed, epoch)`; the cDCGAN alternates discriminator
and generator steps (2 · epochs · ceil(m / batch) steps in all), its minibatches drawn with
replacement from `step_generator(seed, step)`, so a resumed run draws what the uninterrupted run would.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from paperdag.io import atomic_path, read_json, write_json
from paperdag.papers.gda.cifar import MEAN, STD, load_dir, stratified_subset
from paperdag.papers.gda.dcgan import Discriminator, Generator
from paperdag.papers.gda.resnet import ResNet18
from paperdag.runs import write_run
from paperdag.seeding import step_generator
from paperdag.stage import Job


def download(job: Job) -> None:
    """The CIFAR-10 tarball (sha256-checked), unpacked with member checks, and a manifest."""
    from paperdag.data import download as fetch
    from paperdag.data import safe_extract

    spec = job.cfg["download"]
    archive, manifest = Path(job.outputs[0]), Path(job.outputs[1])
    fetch(spec["url"], archive, spec["sha256"])
    safe_extract(archive, manifest.parent)
    write_json(manifest, {"archive": archive.name, "sha256": spec["sha256"], "root": "."})


def _data(job: Job):
    manifest = next(Path(p) for p in job.inputs if p.endswith("manifest.json"))
    return load_dir(manifest.parent / read_json(manifest)["root"])


def _to_unit(x_uint8: torch.Tensor) -> torch.Tensor:
    return x_uint8.float() / 127.5 - 1.0  # [-1, 1], the GAN's range


class CifarGAN(nn.Module):
    """The cDCGAN as a `paperdag.training.fit` task: even steps train D, odd steps train G (non-saturating)."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, *, z_dim: int, width: int, batch: int, lr: float, beta1: float, seed: int
    ) -> None:
        super().__init__()
        torch.manual_seed(seed)  # weight init
        self.G, self.D = Generator(z_dim, width), Discriminator(width)
        self.x, self.y = torch.as_tensor(x), torch.as_tensor(y)  # uint8 images stay on CPU; batches move
        self.z_dim, self.batch, self.lr, self.beta1, self.seed = z_dim, batch, lr, beta1, seed

    def training_loss(self, step: int) -> torch.Tensor:
        dev = self.G.fc.weight.device
        gen = step_generator(self.seed, step)
        z = torch.randn(self.batch, self.z_dim, generator=gen).to(dev)
        fake_y = torch.randint(0, 10, (self.batch,), generator=gen).to(dev)
        if step % 2 == 0:
            idx = torch.randint(0, len(self.x), (self.batch,), generator=gen)
            real, real_y = _to_unit(self.x[idx].to(dev)), self.y[idx].to(dev)
            with torch.no_grad():
                fake = self.G(z, fake_y)
            r, f = self.D(real, real_y), self.D(fake, fake_y)
            loss = F.binary_cross_entropy_with_logits(r, torch.ones_like(r)) + F.binary_cross_entropy_with_logits(
                f, torch.zeros_like(f)
            )
        else:
            frozen = {k: v.detach() for k, v in self.D.named_parameters()}
            logit = functional_call(self.D, frozen, (self.G(z, fake_y), fake_y))
            loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
        return loss.reshape(1)

    def configure_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.lr, betas=(self.beta1, 0.999))


def cdcgan(job: Job) -> None:
    """Fit the cDCGAN on the m real training images of one seed; write the generator's weights."""
    from paperdag.seeding import seed_everything
    from paperdag.training import fit

    cc, seed = job.cfg["cifar"], int(job.wildcards["seed"])
    seed_everything(seed, threads=job.threads)
    data = _data(job)
    idx = stratified_subset(data.y_train, cc["m"], seed)
    gc = cc["cdcgan"]
    task = CifarGAN(
        data.x_train[idx],
        data.y_train[idx],
        z_dim=gc["z_dim"],
        width=gc["width"],
        batch=gc["batch"],
        lr=gc["lr"],
        beta1=gc["beta1"],
        seed=seed,
    )
    steps = 2 * gc["epochs"] * math.ceil(len(idx) / gc["batch"])
    ckpt = job.checkpoint_dir() / job.config_hash
    fit(
        task,
        steps=steps,
        label=f"{job.label} cdcgan",
        run_labels=[f"cdcgan seed={seed}"],
        checkpoint_dir=ckpt,
        checkpoint_every=gc["checkpoint_every"],
        accelerator=job.accelerator(),
    )
    with atomic_path(job.outputs[0]) as tmp:
        torch.save({"generator": task.G.cpu().state_dict(), "z_dim": gc["z_dim"], "width": gc["width"], "seed": seed}, tmp)


@torch.no_grad()
def generate(
    generator_path: Path, n: int, seed: int, device: str, mode: str = "train", batch: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """n class-balanced images as uint8 (n, 3, 32, 32), with their labels: n/10 per class, class by class.

    As the authors' `main_aug.py` samples the cDCGAN: the generator in train mode (batch norm
    normalises with each batch's own statistics, not the running ones) and single-class batches of
    `batch` images. `mode="eval"` (running statistics) is kept to measure the difference
    (tests/unit/test_gda_cifar.py). The running statistics it updates in train mode are discarded.
    """
    state = torch.load(generator_path, map_location="cpu", weights_only=True)
    G = Generator(state["z_dim"], state["width"]).to(device)
    G.load_state_dict(state["generator"])
    G.train(mode == "train")
    if mode not in ("train", "eval"):
        raise ValueError(f"unknown sampling mode {mode!r} (train or eval)")
    if n % 10:
        raise ValueError(f"n = {n} is not a multiple of the 10 classes")
    gen = torch.Generator().manual_seed(seed)
    out, labels = [], []
    for c in range(10):
        for lo in range(0, n // 10, batch):
            y = torch.full((min(batch, n // 10 - lo),), c, dtype=torch.long)
            z = torch.randn(len(y), state["z_dim"], generator=gen)
            img = G(z.to(device), y.to(device))
            out.append(((img + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).cpu())
            labels.append(y)
    return torch.cat(out).numpy(), torch.cat(labels).numpy()


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """`base`: random 32×32 crop of the 4-pixel zero-padded image, then a random horizontal flip."""
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    dx, dy = torch.randint(0, 9, (n,), generator=gen), torch.randint(0, 9, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    rows = (dy[:, None] + torch.arange(32)[None]).to(x.device)  # (n, 32)
    cols = (dx[:, None] + torch.arange(32)[None]).to(x.device)
    out = padded[
        torch.arange(n, device=x.device)[:, None, None, None],
        torch.arange(3, device=x.device)[None, :, None, None],
        rows[:, None, :, None],
        cols[:, None, None, :],
    ]
    return torch.where(flip.to(x.device)[:, None, None, None], out.flip(-1), out)


class ResNetTask(nn.Module):
    """ResNet-18 on a uint8 bank (real + generated), one shuffled pass per epoch, OneCycle lr per epoch."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        augmentation: str,
        epochs: int,
        batch: int,
        lr: float,
        momentum: float,
        weight_decay: float,
        pct_start: float,
        seed: int,
    ) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.net = ResNet18()
        self.x, self.y = torch.as_tensor(x), torch.as_tensor(y)
        self.augmentation, self.batch, self.seed = augmentation, batch, seed
        self.momentum, self.weight_decay = momentum, weight_decay
        self.steps_per_epoch = math.ceil(len(self.x) / batch)
        self.lrs = _one_cycle(lr, epochs, pct_start)  # one value per epoch (the paper steps the schedule per epoch)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self._perm: tuple[int, torch.Tensor] | None = None
        self._opt: torch.optim.Optimizer | None = None

    def prepare(self, x_uint8: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        x = x_uint8.to(self.mean.device).float() / 255.0
        if self.augmentation == "base" and gen is not None:
            x = _augment(x, gen)
        return (x - self.mean) / self.std

    def training_loss(self, step: int) -> torch.Tensor:
        epoch, i = divmod(step, self.steps_per_epoch)
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, torch.randperm(len(self.x), generator=step_generator(self.seed, epoch, stream=1)))
        if self._opt is not None:
            for group in self._opt.param_groups:
                group["lr"] = self.lrs[epoch]
        idx = self._perm[1][i * self.batch : (i + 1) * self.batch]
        x = self.prepare(self.x[idx], step_generator(self.seed, step, stream=2))
        return F.cross_entropy(self.net(x), self.y[idx].to(x.device)).reshape(1)

    def configure_optimizer(self) -> torch.optim.Optimizer:
        self._opt = torch.optim.SGD(self.net.parameters(), lr=self.lrs[0], momentum=self.momentum, weight_decay=self.weight_decay)
        return self._opt

    @torch.no_grad()
    def evaluate(self, x: np.ndarray, y: np.ndarray, gen: torch.Generator | None, batch: int) -> tuple[float, float]:
        """(accuracy, mean cross-entropy), eval mode; `gen` applies the train transforms (train metrics)."""
        self.net.eval()
        correct, total_loss = 0, 0.0
        for lo in range(0, len(x), batch):
            xb = self.prepare(torch.as_tensor(x[lo : lo + batch]), gen)
            yb = torch.as_tensor(y[lo : lo + batch]).to(xb.device)
            logits = self.net(xb)
            correct += int((logits.argmax(1) == yb).sum())
            total_loss += float(F.cross_entropy(logits, yb, reduction="sum"))
        self.net.train()
        return correct / len(x), total_loss / len(x)


def _one_cycle(max_lr: float, epochs: int, pct_start: float) -> list[float]:
    """torch's OneCycleLR (cosine, defaults) with total_steps = epochs, read once per epoch."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=max_lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=max_lr, total_steps=epochs, pct_start=pct_start)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def augment_cifar(job: Job) -> None:
    """ResNet-18 on m real + m_G generated CIFAR-10 images (one run); writes its metrics.json."""
    from paperdag.seeding import seed_everything
    from paperdag.training import fit

    t0 = time.perf_counter()
    cc, wc = job.cfg["cifar"], job.wildcards
    seed, n_gen, aug, gen_name = int(wc["seed"]), int(wc["ngen"]), wc["aug"], wc["generator"]
    seed_everything(seed, threads=job.threads)
    accelerator = job.accelerator()
    device = "cuda" if accelerator == "gpu" else "cpu"
    data = _data(job)
    idx = stratified_subset(data.y_train, cc["m"], seed)
    x, y = data.x_train[idx], data.y_train[idx]
    if n_gen > 0:
        gpath = next(Path(p) for p in job.inputs if p.endswith("generator.pt"))
        xg, yg = generate(gpath, n_gen, seed + 17, device, cc["sample"]["mode"], cc["sample"]["batch"])
        x, y = np.concatenate([x, xg]), np.concatenate([y, yg])
    rc = cc["classifier"]
    task = ResNetTask(
        x,
        y,
        augmentation=aug,
        epochs=rc["epochs"],
        batch=rc["batch"],
        lr=rc["lr"],
        momentum=rc["momentum"],
        weight_decay=rc["weight_decay"],
        pct_start=rc["pct_start"],
        seed=seed,
    )
    steps = rc["epochs"] * task.steps_per_epoch
    ckpt = job.checkpoint_dir() / job.config_hash
    fit(
        task,
        steps=steps,
        label=f"{job.label} resnet18",
        run_labels=[f"{aug} {gen_name} m_G={n_gen} seed={seed}"],
        checkpoint_dir=ckpt,
        checkpoint_every=rc["checkpoint_every"],
        accelerator=accelerator,
    )
    task.to(device)
    train_acc, train_loss = task.evaluate(
        x, y, torch.Generator().manual_seed(seed + 29) if aug == "base" else None, cc["eval_batch"]
    )
    test_acc, test_loss = task.evaluate(data.x_test, data.y_test, None, cc["eval_batch"])
    write_run(
        job.outputs[0],
        {
            "experiment": "cifar",
            "dataset": "cifar10",
            "augmentation": aug,
            "generator": gen_name,
            "m": int(cc["m"]),
            "n_generated": n_gen,
            "seed": seed,
            "epochs": rc["epochs"],
            "train_acc": train_acc,
            "train_loss": train_loss,
            "test_acc": test_acc,
            "test_loss": test_loss,
            "acc_gap": abs(train_acc - test_acc),
            "loss_gap": abs(train_loss - test_loss),
        },
        config_hash=job.config_hash,
        seed=seed,
        started=t0,
    )
