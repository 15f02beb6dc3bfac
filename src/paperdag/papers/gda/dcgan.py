"""A conditional DCGAN for 32×32×3 images (the paper's cDCGAN, `main_train_CDCGAN.py`, with a projection critic).

Generator: [z, one-hot(y)] → linear → 4×4×(4w) → three transposed convolutions (kernel 4,
stride 2) with batch norm and ReLU up to 32×32×3, tanh. Discriminator: three strided
convolutions with LeakyReLU(0.2) (batch norm after the second and third, as in DCGAN),
then the projection head of Miyato & Koyama (2018): logit = ψ(φ(x)) + ⟨embed(y), φ(x)⟩,
the conditioning that made the digits GAN of `generators.py` use its labels. The paper's
code feeds one-hot label maps to both networks instead; the projection discriminator is a
deliberate deviation (same idea as the digits fix). Width w = 128 and z = 100 follow the paper.
Images are in [-1, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

N_CLASSES = 10


class Generator(nn.Module):
    def __init__(self, z_dim: int = 100, width: int = 128) -> None:
        super().__init__()
        self.z_dim, self.width = z_dim, width
        self.fc = nn.Linear(z_dim + N_CLASSES, 4 * 4 * 4 * width, bias=False)
        self.bn0 = nn.BatchNorm2d(4 * width)
        self.up = nn.ModuleList([
            nn.ConvTranspose2d(4 * width, 2 * width, 4, stride=2, padding=1, bias=False),  # 8×8
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1, bias=False),  # 16×16
        ])
        self.bns = nn.ModuleList([nn.BatchNorm2d(2 * width), nn.BatchNorm2d(width)])
        self.out = nn.ConvTranspose2d(width, 3, 4, stride=2, padding=1)  # 32×32

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = self.fc(torch.cat([z, F.one_hot(y, N_CLASSES).to(z.dtype)], dim=1))
        h = F.relu(self.bn0(h.view(-1, 4 * self.width, 4, 4)))
        for conv, bn in zip(self.up, self.bns):
            h = F.relu(bn(conv(h)))
        return torch.tanh(self.out(h))


class Discriminator(nn.Module):
    def __init__(self, width: int = 128) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 4, stride=2, padding=1)  # 16×16
        self.conv2 = nn.Conv2d(width, 2 * width, 4, stride=2, padding=1, bias=False)  # 8×8
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.conv3 = nn.Conv2d(2 * width, 4 * width, 4, stride=2, padding=1, bias=False)  # 4×4
        self.bn3 = nn.BatchNorm2d(4 * width)
        self.head = nn.Linear(4 * width, 1)  # ψ
        self.embed = nn.Embedding(N_CLASSES, 4 * width)  # projection vectors

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(x), 0.2)
        h = F.leaky_relu(self.bn2(self.conv2(h)), 0.2)
        h = F.leaky_relu(self.bn3(self.conv3(h)), 0.2)
        return h.sum(dim=(2, 3))  # φ(x), (N, 4w)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        phi = self.features(x)
        return (self.head(phi) + (self.embed(y) * phi).sum(dim=1, keepdim=True)).squeeze(1)
