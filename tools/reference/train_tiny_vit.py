#!/usr/bin/python3
"""Trains a small ViT on a synthetic 10-class shape task and exports it for nnc's FQ-ViT tests.

usage: /usr/bin/python3 tools/reference/train_tiny_vit.py [--steps N] [--out DIR] [--outliers]

tests/data/golden/tiny_vit was written with --steps 1500, tests/data/golden/tiny_vit_outliers
with --steps 1500 --outliers (same images). Debian's reference BLAS makes this ~40x slower than
OpenBLAS: `apt-get install libopenblas0-pthread` first (about 8 minutes on 2 cores then).

No image dataset is reachable from this machine, so the classes are drawn: a square, a disc, a
cross, a ring or a triangle, in a warm or a cool colour, at a random place and size, over a
noisy random background. The model is the ViT of Dosovitskiy et al. 2021 at toy scale: 4x4
patches of a 32x32 image (64 tokens and a class token), width 96, 4 pre-LayerNorm blocks of 4
heads, GELU MLPs of width 192; 1500 steps reach ~98% accuracy on the task.

Writes to DIR (default tests/data/golden/tiny_vit):
  model.onnx        opset 17, input "input" f32[1,3,32,32] in [0, 1], output "logits" f32[1,10]
  images.npy        u8[288,3,32,32]: 32 calibration images, then 256 evaluation images
  logits.npy        f32[288,10], PyTorch's logits for every image (the judge of nnc's f32 run)
  labels.npy        i64[288], the drawn classes
"""
import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SIZE = 32


def draw(rng, label):
    """One u8 3x32x32 image of class `label` (shape = label % 5, colour = label // 5)."""
    image = rng.uniform(0, 0.35, (3, 1, 1)) + rng.normal(0, 0.08, (3, SIZE, SIZE))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    cy, cx = rng.uniform(9, 23, 2)
    r = rng.uniform(5, 9)
    shape = label % 5
    if shape == 0:
        mask = (abs(yy - cy) < r) & (abs(xx - cx) < r)
    elif shape == 1:
        mask = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
    elif shape == 2:
        mask = ((abs(yy - cy) < r) & (abs(xx - cx) < r / 3)) | ((abs(xx - cx) < r) & (abs(yy - cy) < r / 3))
    elif shape == 3:
        d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
        mask = (d < r) & (d > r * 0.55)
    else:
        mask = (yy - cy < r) & (yy - cy > -r) & (abs(xx - cx) < (yy - cy + r) / 2)
    warm = label // 5 == 0
    colour = np.array([rng.uniform(0.7, 1.0), rng.uniform(0.3, 0.6), rng.uniform(0.0, 0.2)])
    if not warm:
        colour = colour[::-1]
    image = np.where(mask[None], colour[:, None, None] + rng.normal(0, 0.05, (3, SIZE, SIZE)), image)
    return np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)


def dataset(seed, count):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count)
    return np.stack([draw(rng, int(k)) for k in labels]), labels


class TinyVit(nn.Module):
    def __init__(self, dim=96, depth=4, heads=4, hidden=192, patch=4, classes=10, outliers=False):
        super().__init__()
        self.embed = nn.Conv2d(3, dim, patch, stride=patch)
        # outliers: a fixed gain of 30 on every 16th channel of the patch embedding, so that the
        # residual stream (every LayerNorm's input) carries a few channels ~30x wider than the
        # rest, as FQ-ViT measured in trained DeiT and Swin models; training learns around it.
        gain = torch.ones(dim)
        if outliers:
            gain[3::16] = 30.0
        self.register_buffer("gain", gain.reshape(1, 1, dim))
        tokens = (SIZE // patch) ** 2
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.position = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        # models.EncoderBlock: pre-LayerNorm attention and GELU MLP, spelled out as our goldens are.
        self.blocks = nn.ModuleList([models.EncoderBlock(dim, heads, hidden // dim) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, image):
        x = self.embed(image).flatten(2).transpose(1, 2) * self.gain
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.position
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2500)
    parser.add_argument("--out", default=str(ROOT / "tests/data/golden/tiny_vit"))
    parser.add_argument("--outliers", action="store_true", help="outlier channels in the residual stream (see TinyVit)")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    train_x, train_y = dataset(1, 20000)
    model = TinyVit(outliers=args.outliers)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-3, total_steps=args.steps)
    rng = np.random.default_rng(2)
    for step in range(args.steps):
        batch = rng.integers(0, len(train_x), 128)
        x = torch.from_numpy(train_x[batch]).float() / 255
        loss = F.cross_entropy(model(x), torch.from_numpy(train_y[batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)
    model.eval()
    images, labels = dataset(3, 288)
    with torch.no_grad():
        logits = model(torch.from_numpy(images).float() / 255)
    accuracy = (logits.argmax(1).numpy() == labels)[32:].mean()
    print(f"accuracy on the 256 evaluation images: {accuracy:.4f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, SIZE, SIZE), out / "model.onnx", opset_version=17,
                      input_names=["input"], output_names=["logits"])
    np.save(out / "images.npy", images)
    np.save(out / "logits.npy", logits.numpy().astype(np.float32))
    np.save(out / "labels.npy", labels.astype(np.int64))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
