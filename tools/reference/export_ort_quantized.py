#!/usr/bin/python3
"""Two models in the formats ONNX Runtime's quantizer writes, and ONNX Runtime's own outputs on them.

usage: /usr/bin/python3 tools/reference/export_ort_quantized.py

PyPI (and with it onnxruntime.quantization) is out of reach here, so the models are written with
the onnx helper in exactly the layouts `quantize_static(..., QuantFormat.QDQ)` and
`quantize_dynamic(...)` produce:
  ort_qdq_cnn       QuantizeLinear/DequantizeLinear pairs (u8 activations, scales from min/max over
                    calibration inputs) around two Conv+Relu and a MaxPool; s8 weights per output
                    channel behind DequantizeLinear(axis=0); i32 biases at scale x_scale * w_scale.
  ort_dynamic_mlp   DynamicQuantizeLinear -> MatMulInteger (u8 x s8 weights, zero point 0) ->
                    Cast -> Mul (x_scale * w_scale) -> Add bias, twice, with a Relu between.
The expected outputs (output_0.npy) are ONNX Runtime's (npm onnxruntime-node, run through
bench/ort_bench.js), so the tests hold nnc to ORT's integer semantics, not to nnc's own.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/golden"
ORT_DIR = ROOT / "build/bench"
rng = np.random.default_rng(2026)


def u8_params(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1.0
    return np.float32(scale), np.uint8(np.clip(np.round(-lo / scale), 0, 255))


def conv_f32(x, w, b, pad):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, m, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1), np.float64)
    for i in range(kh):
        for j in range(kw):
            out += np.einsum("nchw,mc->nmhw", xp[:, :, i:i + out.shape[2], j:j + out.shape[3]], w[:, :, i, j])
    return out + b[None, :, None, None]


def qdq_cnn():
    c0, c1, c2, size = 3, 16, 16, 24
    w1 = rng.normal(0, 0.3, (c1, c0, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, c1).astype(np.float32)
    w2 = rng.normal(0, 0.1, (c2, c1, 3, 3)).astype(np.float32)
    b2 = rng.normal(0, 0.1, c2).astype(np.float32)
    calib = [rng.uniform(-1, 1, (1, c0, size, size)).astype(np.float32) for _ in range(8)]
    # Activation ranges over the calibration inputs (MinMax, as quantize_static's default).
    r1 = [np.maximum(conv_f32(x, w1, b1, 1), 0) for x in calib]
    pooled = [r.reshape(1, c1, size // 2, 2, size // 2, 2).max(axis=(3, 5)) for r in r1]
    r2 = [np.maximum(conv_f32(p, w2, b2, 1), 0) for p in pooled]
    xs, xz = u8_params(min(x.min() for x in calib), max(x.max() for x in calib))
    s1, z1 = u8_params(0.0, max(r.max() for r in r1))
    s2, z2 = u8_params(0.0, max(r.max() for r in r2))

    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def qdq(value, scale, zero, tag):
        const(f"{tag}_scale", scale)
        const(f"{tag}_zero", zero)
        nodes.append(helper.make_node("QuantizeLinear", [value, f"{tag}_scale", f"{tag}_zero"], [f"{tag}_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{tag}_q", f"{tag}_scale", f"{tag}_zero"], [f"{tag}_dq"]))
        return f"{tag}_dq"

    def weight(name, w, b, x_scale):
        ws = (np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127).astype(np.float32)
        wq = np.clip(np.round(w / ws[:, None, None, None]), -127, 127).astype(np.int8)
        const(f"{name}_q", wq)
        const(f"{name}_scale", ws)
        const(f"{name}_zero", np.zeros(w.shape[0], np.int8))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_q", f"{name}_scale", f"{name}_zero"], [f"{name}_dq"], axis=0))
        bs = (x_scale * ws).astype(np.float32)
        const(f"{name}_bias_q", np.round(b / bs).astype(np.int32))
        const(f"{name}_bias_scale", bs)
        const(f"{name}_bias_zero", np.zeros(w.shape[0], np.int32))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}_bias_q", f"{name}_bias_scale", f"{name}_bias_zero"],
                                      [f"{name}_bias_dq"], axis=0))
        return f"{name}_dq", f"{name}_bias_dq"

    x = qdq("input", xs, xz, "input")
    w1n, b1n = weight("conv1_w", w1, b1, xs)
    nodes.append(helper.make_node("Conv", [x, w1n, b1n], ["conv1"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["conv1"], ["relu1"]))
    r1n = qdq("relu1", s1, z1, "relu1")
    nodes.append(helper.make_node("MaxPool", [r1n], ["pool"], kernel_shape=[2, 2], strides=[2, 2]))
    pn = qdq("pool", s1, z1, "pool")
    w2n, b2n = weight("conv2_w", w2, b2, s1)
    nodes.append(helper.make_node("Conv", [pn, w2n, b2n], ["conv2"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["conv2"], ["relu2"]))
    out = qdq("relu2", s2, z2, "out")
    nodes.append(helper.make_node("Identity", [out], ["output"]))
    graph = helper.make_graph(nodes, "ort_qdq_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, c0, size, size])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, c2, size // 2, size // 2])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), (1, c0, size, size)


def dynamic_mlp():
    d_in, d_hidden, d_out, rows = 32, 64, 10, 6
    w1 = rng.normal(0, 0.2, (d_in, d_hidden)).astype(np.float32)
    b1 = rng.normal(0, 0.1, d_hidden).astype(np.float32)
    w2 = rng.normal(0, 0.2, (d_hidden, d_out)).astype(np.float32)
    b2 = rng.normal(0, 0.1, d_out).astype(np.float32)
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def layer(x, w, b, tag):
        ws = np.float32(np.abs(w).max() / 127)  # per tensor, symmetric, as quantize_dynamic's default
        const(f"{tag}_wq", np.clip(np.round(w / ws), -127, 127).astype(np.int8))
        const(f"{tag}_ws", ws)
        const(f"{tag}_wz", np.int8(0))
        const(f"{tag}_b", b)
        nodes.append(helper.make_node("DynamicQuantizeLinear", [x], [f"{tag}_xq", f"{tag}_xs", f"{tag}_xz"]))
        nodes.append(helper.make_node("MatMulInteger", [f"{tag}_xq", f"{tag}_wq", f"{tag}_xz", f"{tag}_wz"], [f"{tag}_acc"]))
        nodes.append(helper.make_node("Cast", [f"{tag}_acc"], [f"{tag}_accf"], to=TensorProto.FLOAT))
        nodes.append(helper.make_node("Mul", [f"{tag}_xs", f"{tag}_ws"], [f"{tag}_scale"]))
        nodes.append(helper.make_node("Mul", [f"{tag}_accf", f"{tag}_scale"], [f"{tag}_mm"]))
        nodes.append(helper.make_node("Add", [f"{tag}_mm", f"{tag}_b"], [f"{tag}_out"]))
        return f"{tag}_out"

    h = layer("input", w1, b1, "fc1")
    nodes.append(helper.make_node("Relu", [h], ["hidden"]))
    y = layer("hidden", w2, b2, "fc2")
    nodes.append(helper.make_node("Identity", [y], ["output"]))
    graph = helper.make_graph(nodes, "ort_dynamic_mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [rows, d_in])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [rows, d_out])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), (rows, d_in)


def main():
    if not (ORT_DIR / "node_modules/onnxruntime-node").exists():
        sys.exit("needs onnxruntime-node in build/bench (bench/run.py installs it)")
    env = {**os.environ, "NODE_PATH": str(ORT_DIR / "node_modules")}
    for name, (model, shape) in {"ort_qdq_cnn": qdq_cnn(), "ort_dynamic_mlp": dynamic_mlp()}.items():
        d = OUT / name
        d.mkdir(parents=True, exist_ok=True)
        onnx.checker.check_model(model)
        onnx.save(model, d / "model.onnx")
        np.save(d / "input_0.npy", rng.uniform(-1, 1, shape).astype(np.float32))
        out = subprocess.run(["node", str(ROOT / "bench/ort_bench.js"), str(d / "model.onnx"), "--iters", "1", "--warmup", "0",
                              "--input", f"input={d / 'input_0.npy'}", "--save-outputs", str(d / "ort")],
                             check=True, capture_output=True, text=True, env=env).stdout
        (d / "ort" / "output.npy").rename(d / "output_0.npy")
        (d / "ort").rmdir()
        print(name, json.loads(out.strip().splitlines()[-1])["median_ms"], "ms in ORT")


if __name__ == "__main__":
    main()
