#!/usr/bin/python3
"""Exports nnc's golden models and PyTorch's outputs for them into tests/data/golden/.

usage: /usr/bin/python3 tools/reference/export_goldens.py [NAME ...]   (default: all bundled)

The full U2NET (176 MB) is too big to bundle: `export_goldens.py u2net` (and `u2net_1024`, the
same weights at 1024x1024) writes it to build/reference/<name>/ in the same layout, for
measurements and benchmarks.

Each golden is a directory with model.onnx (one input named "input"), input_0.npy and
output_<k>.npy for each graph output k, all float32. The outputs are PyTorch's, computed in
eval() under no_grad; nnc's tests compare against them and never write them.
"""
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = ROOT / "tests/data/golden"
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def photo(name, size):
    """A bundled photo, resized (bilinear, aspect ignored) and ImageNet-normalised, as 1x3xHxW."""
    image = Image.open(ROOT / "models/samples" / name).convert("RGB").resize(size, Image.BILINEAR)
    pixels = (np.asarray(image, dtype=np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(pixels.transpose(2, 0, 1)[None].copy())


def seeded_randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def cnn():
    torch.manual_seed(1)
    model = models.SmallCnn()
    models.calibrate_batchnorm(model, seeded_randn(2, 3, 33, 47, seed=2), seed=3)
    return (model, seeded_randn(1, 3, 33, 47, seed=4), 13, ["mask"],
            {"training": torch.onnx.TrainingMode.PRESERVE})  # keep the BatchNormalization node


def transformer_module():
    torch.manual_seed(5)
    model = models.EncoderBlock()
    with torch.no_grad():  # LayerNorm's default gamma 1 / beta 0 would hide a swapped scale and bias
        for ln in (model.ln1, model.ln2):
            ln.weight.copy_(torch.rand(64) + 0.5)
            ln.bias.copy_(torch.randn(64) * 0.2)
    return model.eval(), seeded_randn(2, 16, 64, seed=6)


def transformer():
    model, example = transformer_module()
    return model, example, 17, ["output"], {}


def transformer_op13():
    model, example = transformer_module()
    return model, example, 13, ["output"], {}


def resblock():
    torch.manual_seed(30)
    model = models.DiffusionResBlock()
    with torch.no_grad():  # GroupNorm's default gamma 1 / beta 0 would hide a swapped scale and bias
        for norm in (model.norm1, model.norm2):
            norm.weight.copy_(torch.rand(32) + 0.5)
            norm.bias.copy_(torch.randn(32) * 0.2)
    return model.eval(), seeded_randn(1, 32, 16, 16, seed=31), 13, ["output"], {}


def u2netp():
    torch.manual_seed(7)
    model = models.U2NETP()
    models.calibrate_batchnorm(model, photo("coffee.png", (320, 320)), seed=8)
    # eval() + PRESERVE keeps every BatchNormalization node (in inference form) instead of
    # folding it into the conv, so nnc's own BN folding is what gets tested.
    return (model, photo("chelsea.png", (320, 320)), 11, [f"d{k}" for k in range(7)],
            {"training": torch.onnx.TrainingMode.PRESERVE})


def u2net():
    torch.manual_seed(17)
    model = models.U2NET()
    models.calibrate_batchnorm(model, photo("coffee.png", (320, 320)), seed=18)
    return (model, photo("chelsea.png", (320, 320)), 11, [f"d{k}" for k in range(7)],
            {"training": torch.onnx.TrainingMode.PRESERVE})


def torchvision_model(constructor, seed):
    torch.manual_seed(seed)
    model = constructor(weights=None, num_classes=10)  # 10 classes: same architecture, 3 MB less
    models.calibrate_batchnorm(model, seeded_randn(2, 3, 96, 96, seed=seed + 1), seed=seed + 2)
    return model, seeded_randn(1, 3, 96, 96, seed=seed + 3), 13, ["logits"], {}


def squeezenet1_1():
    return torchvision_model(torchvision.models.squeezenet1_1, 10)


def shufflenet_v2_x0_5():
    return torchvision_model(torchvision.models.shufflenet_v2_x0_5, 20)


GOLDENS = {f.__name__: f for f in [cnn, transformer, transformer_op13, resblock, u2netp, squeezenet1_1, shufflenet_v2_x0_5]}
def u2net_1024():
    model, _, opset, names, extra = u2net()  # the same seeded weights
    return model, photo("chelsea.png", (1024, 1024)), opset, names, extra


LOCAL_ONLY = {"u2net": u2net, "u2net_1024": u2net_1024}  # exported under build/reference/, never committed


def export(name):
    maker = GOLDENS.get(name) or LOCAL_ONLY[name]
    model, example, opset, output_names, extra = maker()
    model.eval()
    out_dir = (GOLDEN_DIR if name in GOLDENS else ROOT / "build/reference") / name
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "model.onnx"
    with torch.no_grad():
        outputs = model(example)
        torch.onnx.export(model, (example,), str(path), opset_version=opset, input_names=["input"],
                          output_names=output_names, do_constant_folding=True, **extra)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    exported = onnx.load(str(path))
    onnx.checker.check_model(exported, full_check=True)
    op_counts = {}
    for node in exported.graph.node:
        op_counts[node.op_type] = op_counts.get(node.op_type, 0) + 1
        for attribute in node.attribute:
            if node.op_type == "BatchNormalization" and attribute.name == "training_mode" and attribute.i != 0:
                raise SystemExit(f"{name}: {node.name} exported in training mode")

    for old in out_dir.glob("*.npy"):
        old.unlink()
    np.save(out_dir / "input_0.npy", example.numpy().astype(np.float32))
    for k, output in enumerate(outputs):
        array = output.numpy().astype(np.float32)
        if not np.isfinite(array).all():
            raise SystemExit(f"{name}: output {k} has non-finite values")
        np.save(out_dir / f"output_{k}.npy", array)
    size = sum(f.stat().st_size for f in out_dir.iterdir())
    print(f"{name}: opset {opset}, {len(exported.graph.node)} nodes, {size / 1e6:.2f} MB")
    print("  ops: " + ", ".join(f"{op} {count}" for op, count in sorted(op_counts.items())))
    for k, output in enumerate(outputs):
        print(f"  output {k} ({output_names[k]}): shape {list(output.shape)}, "
              f"mean {output.mean():.4f}, std {output.std():.4f}, min {output.min():.4f}, max {output.max():.4f}")


def main():
    names = sys.argv[1:] or list(GOLDENS)
    unknown = [n for n in names if n not in GOLDENS and n not in LOCAL_ONLY]
    if unknown:
        raise SystemExit(f"unknown golden(s) {unknown}; known: {list(GOLDENS) + list(LOCAL_ONLY)}")
    for name in names:
        export(name)


if __name__ == "__main__":
    main()
