#!/usr/bin/python3
"""Multi-scale deformable attention (Deformable DETR, BEVFormer): PyTorch's formulations and the
test data nnc's MSDeformAttn op, its fusion pass and its importers are judged by.

usage: /usr/bin/python3 tools/reference/deform_attn.py   (writes tests/data/deform_attn/)

The op (shared/MODELS.md, "MSDeformAttn op spec"): value [B,S,M,D] holds L flattened maps
(S = sum of H_l*W_l), sampling_locations [B,Q,M,L,P,2] are normalised (x, y) in [0, 1] (outside
reads zeros), attention_weights [B,Q,M,L,P]; out [B,Q,M*D] is the weighted sum of bilinear reads
at pixel (x*W_l - 0.5, y*H_l - 0.5). Two independent PyTorch formulations compute it:
`by_grid_sample` (what exporters write, and what nnc's fuse-deform-attn pass recognises) and
`by_direct_sampling` (a plain gather in float64); they must agree before anything is written.

For each case the folder holds value.npy, spatial_shapes.npy, level_start_index.npy,
sampling_locations.npy, attention_weights.npy, output.npy (PyTorch's by_grid_sample in float32)
and four models of the same function with inputs (value, sampling_locations, attention_weights):
  decomposed.onnx  torch.onnx.export of by_grid_sample at opset 16 (GridSample per level)
  mmdeploy.onnx    one mmdeploy::MMCVMultiScaleDeformableAttention node, as mmdeploy exports mmcv's op
  trt_plugin.onnx  one MultiscaleDeformableAttnPlugin_TRT node (TensorRT's plugin, output [B,Q,M,D])
  nnc.onnx         one nnc::MSDeformAttn node (nnc's own domain)
"""
import os
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests/data/deform_attn"


def by_grid_sample(value, shapes, locations, weights):
    """One 4-D grid_sample per level, stacked, weighted, summed (Deformable DETR's PyTorch path)."""
    B, S, M, D = value.shape
    _, Q, _, L, P, _ = locations.shape
    per_level = value.split([h * w for h, w in shapes], dim=1)
    grids = 2 * locations - 1  # [0, 1] -> grid_sample's [-1, 1]
    samples = []
    for level, (h, w) in enumerate(shapes):
        v = per_level[level].flatten(2).transpose(1, 2).reshape(B * M, D, h, w)
        g = grids[:, :, :, level].transpose(1, 2).flatten(0, 1)  # [B*M, Q, P, 2]
        samples.append(F.grid_sample(v, g, mode="bilinear", padding_mode="zeros", align_corners=False))
    a = weights.transpose(1, 2).reshape(B * M, 1, Q, L * P)
    out = (torch.stack(samples, dim=-2).flatten(-2) * a).sum(-1).view(B, M * D, Q)
    return out.transpose(1, 2).contiguous()


def by_direct_sampling(value, shapes, locations, weights):
    """The same function written as a gather of four taps per point, in float64."""
    value, locations, weights = value.double(), locations.double(), weights.double()
    B, S, M, D = value.shape
    _, Q, _, L, P, _ = locations.shape
    out = torch.zeros(B, Q, M, D, dtype=torch.float64)
    start = 0
    for level, (h, w) in enumerate(shapes):
        v = value[:, start:start + h * w].reshape(B, h, w, M, D)
        start += h * w
        x = locations[:, :, :, level, :, 0] * w - 0.5  # [B, Q, M, P]
        y = locations[:, :, :, level, :, 1] * h - 0.5
        x0, y0 = torch.floor(x), torch.floor(y)
        for dy in (0, 1):
            for dx in (0, 1):
                tx, ty = x0 + dx, y0 + dy
                tap = (1 - (x - tx).abs()) * (1 - (y - ty).abs())
                inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
                txi, tyi = tx.clamp(0, w - 1).long(), ty.clamp(0, h - 1).long()
                b = torch.arange(B).view(B, 1, 1, 1).expand_as(txi)
                m = torch.arange(M).view(1, 1, M, 1).expand_as(txi)
                read = v[b, tyi, txi, m]  # [B, Q, M, P, D]
                coeff = (tap * inside * weights[:, :, :, level]).unsqueeze(-1)
                out += (coeff * read).sum(3)
    return out.reshape(B, Q, M * D)


class Decomposed(torch.nn.Module):
    def __init__(self, shapes):
        super().__init__()
        self.shapes = shapes

    def forward(self, value, locations, weights):
        return by_grid_sample(value, self.shapes, locations, weights)


def custom_node_model(path, op_type, domain, inputs_np, shapes, output_shape, attrs=None):
    """A one-node model of a deployment ecosystem's custom op, spatial shapes as initializers."""
    value, locations, weights = inputs_np
    shapes_np = np.array(shapes, dtype=np.int64)
    starts_np = np.concatenate([[0], np.cumsum(shapes_np[:, 0] * shapes_np[:, 1])[:-1]]).astype(np.int64)
    node = helper.make_node(op_type, ["value", "spatial_shapes", "level_start_index", "sampling_locations",
                                      "attention_weights"], ["output"], name="msda", domain=domain, **(attrs or {}))
    graph = helper.make_graph(
        [node], "msda",
        [helper.make_tensor_value_info("value", TensorProto.FLOAT, value.shape),
         helper.make_tensor_value_info("sampling_locations", TensorProto.FLOAT, locations.shape),
         helper.make_tensor_value_info("attention_weights", TensorProto.FLOAT, weights.shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)],
        initializer=[numpy_helper.from_array(shapes_np, "spatial_shapes"),
                     numpy_helper.from_array(starts_np, "level_start_index")])
    opsets = [helper.make_opsetid("", 16)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    onnx.save(helper.make_model(graph, opset_imports=opsets, producer_name="tools/reference/deform_attn.py"), path)


CASES = {
    # odd sizes, a one-pixel-high level, points well outside the maps
    "odd_levels": dict(B=2, M=3, D=5, shapes=[(7, 9), (4, 5), (1, 3)], Q=11, P=4, low=-0.3, high=1.3, seed=1),
    # one level, as BEVFormer's temporal self-attention and decoder use it
    "one_level": dict(B=1, M=2, D=8, shapes=[(13, 6)], Q=20, P=3, low=-0.1, high=1.1, seed=2),
    # four levels as Deformable DETR's encoder, D a multiple of 16 (the fast kernel's main loop)
    "four_levels": dict(B=1, M=8, D=32, shapes=[(16, 20), (8, 10), (4, 5), (2, 3)], Q=64, P=4, low=0.0, high=1.0, seed=3),
}


def write_case(name, B, M, D, shapes, Q, P, low, high, seed):
    generator = torch.Generator().manual_seed(seed)
    L, S = len(shapes), sum(h * w for h, w in shapes)
    value = torch.randn(B, S, M, D, generator=generator)
    locations = low + (high - low) * torch.rand(B, Q, M, L, P, 2, generator=generator)
    weights = torch.softmax(torch.randn(B, Q, M, L * P, generator=generator), -1).view(B, Q, M, L, P)
    with torch.no_grad():
        out = by_grid_sample(value, shapes, locations, weights)
        direct = by_direct_sampling(value, shapes, locations, weights)
    err = (out.double() - direct).norm() / direct.norm()
    assert err < 1e-6, f"{name}: the two PyTorch formulations differ by {err:.3g} relative L2"

    folder = OUT_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    starts = np.concatenate([[0], np.cumsum([h * w for h, w in shapes])[:-1]]).astype(np.int64)
    arrays = {"value": value, "sampling_locations": locations, "attention_weights": weights, "output": out}
    for key, tensor in arrays.items():
        np.save(folder / f"{key}.npy", tensor.numpy().astype(np.float32))
    np.save(folder / "spatial_shapes.npy", np.array(shapes, dtype=np.int64))
    np.save(folder / "level_start_index.npy", starts)

    torch.onnx.export(Decomposed(shapes), (value, locations, weights), str(folder / "decomposed.onnx"),
                      opset_version=16, input_names=["value", "sampling_locations", "attention_weights"],
                      output_names=["output"])
    inputs_np = (value.numpy(), locations.numpy(), weights.numpy())
    custom_node_model(folder / "mmdeploy.onnx", "MMCVMultiScaleDeformableAttention", "mmdeploy", inputs_np, shapes,
                      [B, Q, M * D], {"im2col_step": 64})
    custom_node_model(folder / "trt_plugin.onnx", "MultiscaleDeformableAttnPlugin_TRT", "", inputs_np, shapes,
                      [B, Q, M, D])
    custom_node_model(folder / "nnc.onnx", "MSDeformAttn", "nnc", inputs_np, shapes, [B, Q, M * D])
    print(f"{name}: B {B} Q {Q} M {M} D {D} levels {shapes} P {P}; grid_sample vs direct rel L2 {err:.2e}")


def main():
    torch.manual_seed(0)
    for name, case in CASES.items():
        write_case(name, **case)


if __name__ == "__main__":
    sys.exit(main())
