#!/usr/bin/python3
"""Scores `nnc deblur` on a held-out synthetic set: PSNR, SSIM and detail energy.

usage: /usr/bin/python3 tools/reference/eval_deblur.py [--count 40] [--size 128] [--steps 10,25,50]
                                                        [--nnc build/nnc] [--model-dir models/deblur]

The held-out pairs come from synthetic_blur.py with seeds from 2*10**7 (training used seeds
below 2*10**7) and sharp images cropped from photos training never saw (chelsea, coffee) or
procedural scenes. Each blurry image is written as a PNG, `nnc deblur` runs on it (predictor
only, then G + F at each step count, eta 0 and 1), and the PNG it writes is scored against the
sharp image:

  PSNR    dB, peak 1 (higher is better)
  SSIM    skimage.metrics.structural_similarity, channel_axis=2, data_range 1
  detail  mean gradient magnitude of the output / that of the sharp image (1 = as much fine
          detail as the truth; a blurry or over-smoothed result is below 1)

The paper's point is the trade-off: G alone maximises PSNR (it regresses the average), while the
sampled residual restores detail (detail nearer 1) at some cost in PSNR.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from skimage.metrics import structural_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_blur  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT_SEED = 2 * 10**7


def to_png(tensor, path):
    Image.fromarray((tensor.permute(1, 2, 0).numpy() * 255).round().clip(0, 255).astype(np.uint8)).save(path)


def detail(image):
    gy, gx = np.gradient(image, axis=(0, 1))
    return float(np.mean(np.sqrt(gx**2 + gy**2)))


def score(output, sharp):
    mse = float(np.mean((output - sharp) ** 2))
    psnr = 10 * np.log10(1.0 / max(mse, 1e-12))
    ssim = structural_similarity(output, sharp, channel_axis=2, data_range=1.0)
    return psnr, ssim, detail(output) / max(detail(sharp), 1e-12)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", default="10,25,50")
    parser.add_argument("--nnc", default=str(ROOT / "build/nnc"))
    parser.add_argument("--model-dir", default=str(ROOT / "models/deblur"))
    parser.add_argument("--work", default=str(ROOT / "build/eval/deblur"))
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    photos = synthetic_blur.load_photos(synthetic_blur.HELD_OUT_PHOTOS)
    configs = [("blurry input", None), ("G alone (--predictor-only)", ["--predictor-only"])]
    for steps in args.steps.split(","):
        for eta in ("0", "1"):
            configs.append((f"G + F, {steps} steps, eta {eta}", ["--steps", steps, "--eta", eta, "--seed", "1"]))
    results = {name: [] for name, _ in configs}
    for k in range(args.count):
        blurry, sharp = synthetic_blur.pair(HELD_OUT_SEED + k, args.size, photos)
        sharp_np = sharp.permute(1, 2, 0).numpy().astype(np.float64)
        blurry_path = work / f"blurry_{k:03d}.png"
        to_png(blurry, blurry_path)
        for name, flags in configs:
            if flags is None:
                output = np.asarray(Image.open(blurry_path), dtype=np.float64) / 255
            else:
                out_path = work / "out.png"
                subprocess.run([args.nnc, "deblur", str(blurry_path), "-o", str(out_path), "--model-dir", args.model_dir,
                                *flags], check=True, stdout=subprocess.DEVNULL)
                output = np.asarray(Image.open(out_path).convert("RGB"), dtype=np.float64) / 255
            results[name].append(score(output, sharp_np))
        if (k + 1) % 10 == 0:
            print(f"{k + 1}/{args.count} pairs", flush=True)
    print(f"held-out synthetic set: {args.count} pairs at {args.size}x{args.size}, seeds {HELD_OUT_SEED}..\n")
    print("| output | PSNR (dB) | SSIM | detail |")
    print("|---|---|---|---|")
    for name, _ in configs:
        psnr, ssim, det = np.mean(results[name], axis=0)
        print(f"| {name} | {psnr:.2f} | {ssim:.4f} | {det:.3f} |")


if __name__ == "__main__":
    main()
