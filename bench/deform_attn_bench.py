#!/usr/bin/python3
"""Multi-scale deformable attention: nnc's fused MSDeformAttn against the GridSample
decomposition it replaces (and ONNX Runtime on that decomposition), in one run; and
deformable convolution (DeformConv, opset 19): nnc against ONNX Runtime's own DeformConv.

usage: /usr/bin/python3 bench/deform_attn_bench.py [--threads N] [--rounds R] [--iters N] [SHAPE ...]

SHAPE names one of the attention or convolution layers below, at the sizes the published models use. Each is
exported from tools/reference/deform_attn.py's `by_grid_sample` (opset 16, one GridSample per
level) into build/bench/deform_attn/, with inputs drawn as real layers draw them: locations
in [0, 1] around the map, softmax weights. Per round (interleaved, so the machine's noise hits
all alike) it times
  fused       nnc bench at -O2 (fuse-deform-attn makes one MSDeformAttn, tactic deform-attn.fused-taps)
  decomposed  nnc bench with --disable-pass fuse-deform-attn (GridSample, Concat, Mul, ReduceSum, each
              with its fastest tactic)
  ORT         ONNX Runtime on the same decomposed model
and prints the median over rounds and the ratios. The three outputs are checked against each
other first (relative L2 under 1e-5). DCN_SHAPES are single DeformConv nodes (modulated, 3x3,
as in R50-DCN backbones), timed in nnc (tactic deform-conv.im2col-gemm) and ONNX Runtime.
"""
import argparse
import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools/reference"))
sys.path.insert(0, str(ROOT / "bench"))
import deform_attn  # noqa: E402
from run import NNC, cpu_model, ensure_ort, rel_l2, run_json  # noqa: E402

OUT = ROOT / "build/bench/deform_attn"

# (B, Q, M, D, levels, P): the layers of shared/MODELS.md at their published sizes.
SHAPES = {
    # BEVFormer-tiny temporal self-attention: prev and current BEV stacked (B 2), 50x50 BEV
    "bevformer_tiny_tsa": (2, 2500, 8, 32, [(50, 50)], 4),
    # BEVFormer-tiny spatial cross-attention, per camera (B 6), 800x480 image, C5 15x25, 8 points
    "bevformer_tiny_sca": (6, 2500, 8, 32, [(15, 25)], 8),
    # Deformable DETR encoder at 800x1066-ish: four levels, every pixel a query
    "deformable_detr_encoder": (1, 100 * 134 + 50 * 67 + 25 * 34 + 13 * 17, 8, 32,
                                [(100, 134), (50, 67), (25, 34), (13, 17)], 4),
}


# (C_in, C_out, H, W): DCNv2 3x3 layers of R50-DCN (BEVFormer-base, PETR r50dcn) on one camera.
DCN_SHAPES = {
    "dcn_r50_stage3": (256, 256, 32, 88),   # 1408x512 input, stride 16
    "dcn_r50_stage4": (512, 512, 16, 44),   # stride 32
}


def dcn_inputs(folder, C, H, W):
    """Seeded x, offset and mask of a 3x3 DCNv2 layer, saved as .npy; returns the generator too."""
    g = torch.Generator().manual_seed(0)
    arrays = {"x": torch.randn(1, C, H, W, generator=g), "offset": torch.randn(1, 18, H, W, generator=g),
              "mask": torch.sigmoid(torch.randn(1, 9, H, W, generator=g))}
    for key, t in arrays.items():
        np.save(folder / f"{key}.npy", t.numpy())
    return g, arrays


def export_dcn(name):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    C, O, H, W = DCN_SHAPES[name]
    folder = OUT / name
    if (folder / "model.onnx").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    g, arrays = dcn_inputs(folder, C, H, W)
    weight = (torch.randn(O, C, 3, 3, generator=g) * 0.05).numpy()
    node = helper.make_node("DeformConv", ["x", "weight", "offset", "bias", "mask"], ["y"], kernel_shape=[3, 3],
                            pads=[1, 1, 1, 1])
    inputs = [helper.make_tensor_value_info(k, TensorProto.FLOAT, list(t.shape)) for k, t in arrays.items()]
    graph = helper.make_graph([node], name, inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, O, H, W])],
                              [numpy_helper.from_array(weight, "weight"),
                               numpy_helper.from_array(np.zeros(O, np.float32), "bias")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    onnx.save(model, folder / "model.onnx")
    return folder


# The same stage-3 DCNv2 layer exported as one grid_sample per kernel tap (the form that exports
# before opset 19), which fuse-deform-conv turns into DeformConv.
DCN_DECOMPOSED = {"dcn_r50_stage3_decomposed": (256, 256, 32, 88)}


def export_dcn_decomposed(name):
    import deform_conv
    C, O, H, W = DCN_DECOMPOSED[name]
    folder = OUT / name
    if (folder / "model.onnx").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    g, arrays = dcn_inputs(folder, C, H, W)
    weight = torch.randn(O, C, 3, 3, generator=g) * 0.05
    module = deform_conv.Decomposed(weight, torch.zeros(O), (1, 1), (1, 1), (1, 1))
    torch.onnx.export(module, tuple(arrays.values()), str(folder / "model.onnx"), opset_version=16,
                      input_names=list(arrays), output_names=["y"])
    return folder


def export(name):
    if name in DCN_DECOMPOSED:
        return export_dcn_decomposed(name)
    B, Q, M, D, shapes, P = SHAPES[name]
    folder = OUT / name
    if (folder / "model.onnx").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    L, S = len(shapes), sum(h * w for h, w in shapes)
    value = torch.randn(B, S, M, D, generator=g)
    locations = torch.rand(B, Q, M, L, P, 2, generator=g)
    weights = torch.softmax(torch.randn(B, Q, M, L * P, generator=g), -1).view(B, Q, M, L, P)
    for key, t in {"value": value, "sampling_locations": locations, "attention_weights": weights}.items():
        np.save(folder / f"{key}.npy", t.numpy())
    torch.onnx.export(deform_attn.Decomposed(shapes), (value, locations, weights), str(folder / "model.onnx"),
                      opset_version=16, input_names=["value", "sampling_locations", "attention_weights"],
                      output_names=["output"])
    return folder


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("shapes", nargs="*", default=list(SHAPES) + list(DCN_DECOMPOSED) + list(DCN_SHAPES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args()
    if not NNC.exists():
        sys.exit("bench/deform_attn_bench.py: build/nnc is missing; run tools/build.sh first")
    ort_env = ensure_ort()
    rows, dcn_rows = [], []
    for name in args.shapes:
        dcn = name in DCN_SHAPES
        folder = export_dcn(name) if dcn else export(name)
        model = str(folder / "model.onnx")
        decomposed_dcn = name in DCN_DECOMPOSED
        keys = ("x", "offset", "mask") if dcn or decomposed_dcn else ("value", "sampling_locations", "attention_weights")
        inputs = []
        for key in keys:
            inputs += ["--input", f"{key}={folder / (key + '.npy')}"]
        threads = ["--threads", str(args.threads)]
        cache = str(folder / f"t{args.threads}.timing-cache")
        fusing_pass = "fuse-deform-conv" if decomposed_dcn else "fuse-deform-attn"
        variants = {"fused": []} if dcn else {"fused": [], "decomposed": ["--disable-pass", fusing_pass]}
        output = "y" if dcn or decomposed_dcn else "output"
        with tempfile.TemporaryDirectory() as tmp:
            for variant, extra in variants.items():
                subprocess.run([str(NNC), "run", model, *inputs, *threads, *extra, "--timing-cache", cache,
                                "--save-outputs", f"{tmp}/{variant}"], check=True, stdout=subprocess.DEVNULL)
            run_json(["node", str(ROOT / "bench/ort_bench.js"), model, *threads, "--iters", "1", "--warmup", "0",
                      *inputs, "--save-outputs", f"{tmp}/ort"], ort_env)
            outs = {v: np.load(Path(tmp) / v / f"{output}.npy") for v in [*variants, "ort"]}
        worst = max(rel_l2(outs[v], outs["ort"]) for v in variants)
        if worst > 1e-5:
            sys.exit(f"bench/deform_attn_bench.py: {name}: outputs differ by {worst:.2e} relative L2 (limit 1e-5)")
        medians = {v: [] for v in [*variants, "ort"]}
        for r in range(args.rounds):
            print(f"{name}: round {r + 1}/{args.rounds}", flush=True)
            common = [*threads, "--iters", str(args.iters), "--warmup", "1", *inputs]
            for variant, extra in variants.items():
                medians[variant].append(run_json([str(NNC), "bench", model, "--json", "--timing-cache", cache, *extra,
                                                  *common])["median_ms"])
            medians["ort"].append(run_json(["node", str(ROOT / "bench/ort_bench.js"), model, *common], ort_env)
                                  ["median_ms"])
        (dcn_rows if dcn else rows).append((name, {k: float(np.median(v)) for k, v in medians.items()}, worst))

    print(f"\n{date.today()}  {cpu_model()}  {args.threads} threads, {args.rounds} rounds x {args.iters} iterations "
          f"(median of round medians, ms)")
    print(f"{'layer':<26}{'fused':>9}{'decomposed':>12}{'ORT':>9}{'decomposed/fused':>18}{'ORT/fused':>11}")
    for name, m, worst in rows:
        print(f"{name:<26}{m['fused']:>9.2f}{m['decomposed']:>12.2f}{m['ort']:>9.2f}"
              f"{m['decomposed'] / m['fused']:>18.1f}{m['ort'] / m['fused']:>11.1f}")
    if dcn_rows:
        print(f"\n{'DeformConv layer':<26}{'nnc':>9}{'ORT':>9}{'nnc/ORT':>10}")
        for name, m, worst in dcn_rows:
            print(f"{name:<26}{m['fused']:>9.2f}{m['ort']:>9.2f}{m['fused'] / m['ort']:>10.2f}")


if __name__ == "__main__":
    main()
