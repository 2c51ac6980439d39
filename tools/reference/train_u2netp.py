#!/usr/bin/python3
"""Trains U2NETP on generated salient-object images and exports the ONNX nnc bundles.

usage: /usr/bin/python3 tools/reference/train_u2netp.py [--minutes 30] [--out models/u2net/u2netp.onnx]
       /usr/bin/python3 tools/reference/train_u2netp.py --export-only   (from the saved checkpoint)

Training follows the U^2-Net paper's recipe at a scale this 2-core machine affords: the sum of
binary cross-entropies over the fused map and the six side outputs, Adam (lr 1e-3, betas
(0.9, 0.999), no weight decay), fresh generated images every step (synthetic_saliency.py, so
nothing is seen twice). Most steps run at 128-192 px (cheap, many steps); the last fifth runs
at 288 px, near the 320 px the exported model sees. The budget is wall-clock minutes; the
step count reached is printed and stored next to the export.

The export follows the widely used u2netp.onnx files: one input 1x3x320x320 (ImageNet-normalised
RGB), seven sigmoid outputs d0..d6, d0 the fused map, opset 11, BatchNorm folded (eval export).
Training samples use seeds from 0 upwards; the held-out set (eval_u2net.py) uses seeds from 10**6.

It also writes tests/data/golden/u2netp_trained/: PyTorch's seven outputs for the bundled photo
chelsea.png (input_0.npy, output_<k>.npy) and the mask U2Net's post-processing makes of them at
the photo's own size (chelsea_mask.png: PIL resize to 320x320, ImageNet normalisation, the
model, min-max normalisation, PIL bilinear resize back, rounded to 8 bits), the end-to-end
reference for `nnc u2net`.
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402
import synthetic_saliency  # noqa: E402
from export_goldens import photo  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def normalise(images):
    return (images - IMAGENET_MEAN) / IMAGENET_STD


def train(minutes):
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    model = models.U2NETP()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    budget = minutes * 60
    start = time.time()
    step, seed, history = 0, 0, []
    model.train()
    while time.time() - start < budget:
        late = time.time() - start > 0.8 * budget
        size, batch_size = (288, 4) if late else (int(np.random.RandomState(step).choice([128, 160, 192])), 8)
        images, masks = synthetic_saliency.batch(range(seed, seed + batch_size), size)
        seed += batch_size
        if step % 2 == 1:  # horizontal flips: free variety
            images, masks = images.flip(3), masks.flip(3)
        logits = model.logits(normalise(images))
        loss = sum(F.binary_cross_entropy_with_logits(d, masks) for d in logits)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(float(loss))
        step += 1
        if step % 20 == 0:
            print(f"step {step} ({time.time() - start:.0f} s, {size} px): loss {np.mean(history[-20:]):.4f}", flush=True)

    summary = {"steps": step, "images_seen": seed, "minutes": round((time.time() - start) / 60, 1),
               "final_loss": round(float(np.mean(history[-20:])), 4)}
    return model, summary


def export(model, out):
    """The ONNX nnc bundles, in the u2netp.onnx convention."""
    model.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, 3, 320, 320)
    with torch.no_grad():
        torch.onnx.export(model, (example,), str(out), opset_version=11, input_names=["input"],
                          output_names=[f"d{k}" for k in range(7)], do_constant_folding=True)
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)


def write_golden(model):
    golden = ROOT / "tests/data/golden/u2netp_trained"
    golden.mkdir(parents=True, exist_ok=True)
    model.eval()
    x = photo("chelsea.png", (320, 320))
    with torch.no_grad():
        outputs = model(x)
    np.save(golden / "input_0.npy", x.numpy().astype(np.float32))
    for k, output in enumerate(outputs):
        np.save(golden / f"output_{k}.npy", output.numpy().astype(np.float32))
    fused = outputs[0][0, 0].numpy().astype(np.float64)
    fused = (fused - fused.min()) / (fused.max() - fused.min())
    width, height = Image.open(ROOT / "models/samples/chelsea.png").size
    sized = np.asarray(Image.fromarray(fused.astype(np.float32), mode="F").resize((width, height), Image.BILINEAR))
    mask = np.round(np.clip(sized, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(mask, mode="L").save(golden / "chelsea_mask.png")
    print(f"golden written to {golden}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--out", default=str(ROOT / "models/u2net/u2netp.onnx"))
    parser.add_argument("--checkpoint", default=str(ROOT / "build/reference/u2netp_trained.pt"))
    parser.add_argument("--export-only", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    if args.export_only:
        model = models.U2NETP()
        model.load_state_dict(torch.load(args.checkpoint))
        export(model, out)
        write_golden(model)
        return
    model, summary = train(args.minutes)
    Path(args.checkpoint).parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.checkpoint)
    export(model, out)
    (out.parent / (out.stem + ".training.json")).write_text(json.dumps(summary, indent=1) + "\n")
    print(f"exported {out}: {summary}")
    write_golden(model)


if __name__ == "__main__":
    main()
