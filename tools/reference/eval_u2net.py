#!/usr/bin/python3
"""Scores a U2Net model on a held-out generated set, from the masks `nnc u2net` writes.

usage: /usr/bin/python3 tools/reference/eval_u2net.py [--model models/u2net/u2netp.onnx] [--count 200]
                                                       [--size 320] [--nnc build/nnc]

The held-out images come from synthetic_saliency.py with seeds from 10**6 (training used seeds
from 0, far below), at --size pixels. Each image is written as a PNG, `nnc u2net IMAGE --mask
OUT.png` runs on it (the optimised, tuned path; the timing cache makes every run after the first
skip tuning), and the 8-bit mask it writes is scored against the generated ground truth:

  MAE          mean |mask/255 - truth| over all pixels of all images (lower is better)
  max F        the F-measure with beta^2 = 0.3 (the saliency literature's choice, weighting
               precision), precision and recall summed over the whole set at each of 256
               thresholds, best threshold reported (higher is better)

Both are the standard salient-object metrics (as in the U^2-Net paper). The numbers are nnc's:
the golden tests separately hold nnc's outputs to PyTorch's within 1e-4.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import synthetic_saliency  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT_SEED = 10**6


def max_f_measure(predictions, truths, beta2=0.3):
    """predictions: uint8 arrays; truths: bool arrays. Set-level precision/recall per threshold."""
    hist_fg = np.zeros(256)
    hist_bg = np.zeros(256)
    for p, t in zip(predictions, truths):
        hist_fg += np.bincount(p[t].ravel(), minlength=256)
        hist_bg += np.bincount(p[~t].ravel(), minlength=256)
    # predicted positive at threshold k: value >= k
    tp = np.cumsum(hist_fg[::-1])[::-1]
    fp = np.cumsum(hist_bg[::-1])[::-1]
    positives = hist_fg.sum()
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / max(positives, 1)
    f = (1 + beta2) * precision * recall / np.maximum(beta2 * precision + recall, 1e-12)
    best = int(np.argmax(f[1:])) + 1  # threshold 0 would call every pixel salient
    return float(f[best]), best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default=str(ROOT / "models/u2net/u2netp.onnx"))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--nnc", default=str(ROOT / "build/nnc"))
    parser.add_argument("--work", default=str(ROOT / "build/eval/u2net"))
    args = parser.parse_args()

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    predictions, truths = [], []
    for k in range(args.count):
        image, mask = synthetic_saliency.sample(HELD_OUT_SEED + k, args.size)
        image_path = work / f"image_{k:04d}.png"
        Image.fromarray((image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(image_path)
        out_path = work / f"mask_{k:04d}.png"
        subprocess.run([args.nnc, "u2net", str(image_path), "--mask", str(out_path), "--model", args.model],
                       check=True, stdout=subprocess.DEVNULL)
        predictions.append(np.asarray(Image.open(out_path).convert("L")))
        truths.append(mask[0].numpy() > 0.5)
        if (k + 1) % 50 == 0:
            print(f"{k + 1}/{args.count} images", flush=True)
    mae = float(np.mean([np.abs(p / 255.0 - t).mean() for p, t in zip(predictions, truths)]))
    f, threshold = max_f_measure(predictions, truths)
    print(f"held-out generated set: {args.count} images at {args.size} px, seeds {HELD_OUT_SEED}..")
    print(f"MAE {mae:.4f}   max F-measure (beta^2 0.3) {f:.4f} at threshold {threshold}/255")


if __name__ == "__main__":
    main()
