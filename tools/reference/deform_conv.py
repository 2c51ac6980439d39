#!/usr/bin/python3
"""Deformable convolution (DCNv1/v2): torchvision's deform_conv2d as the judge of nnc's
DeformConv op and its mmcv import.

usage: /usr/bin/python3 tools/reference/deform_conv.py   (writes tests/data/deform_conv/)

Each case folder holds x.npy, offset.npy, mask.npy (when modulated), output.npy
(torchvision.ops.deform_conv2d in float32) and models whose inputs are (x, offset[, mask]) with
the weight and bias as initializers:
  onnx.onnx   ONNX's DeformConv (opset 19)
  mmcv.onnx   mmcv::MMCVModulatedDeformConv2d, as mmcv's symbolic writes it (modulated cases)
  decomposed.onnx  torch.onnx.export (opset 16) of DCNv2 as one grid_sample per kernel tap, times
                   the mask, taps stacked in im2col order, a 1x1 convolution (shared/MODELS.md,
                   "DCNv2 rewrite"); the form fuse-deform-conv turns back into DeformConv
                   (cases with one offset group)
Before anything is written, torchvision's output is checked against a second formulation:
one grid_sample(align_corners=True, zeros) per kernel tap in float64, times the mask, then a
1x1 convolution of the taps (shared/MODELS.md, "DCNv2 rewrite").
"""
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests/data/deform_conv"


def by_grid_sample(x, offset, mask, weight, bias, stride, padding, dilation):
    """DCN as kernel-tap grid_samples in float64 (needs H, W > 1)."""
    x, offset, weight = x.double(), offset.double(), weight.double()
    N, C, H, W = x.shape
    oC, Cg, kh, kw = weight.shape
    groups = C // Cg
    oH, oW = offset.shape[2:]
    og = offset.shape[1] // (2 * kh * kw)
    offset = offset.view(N, og, kh, kw, 2, oH, oW)
    mask = torch.ones(N, og, kh, kw, oH, oW, dtype=torch.float64) if mask is None else mask.double().view(N, og, kh, kw, oH, oW)
    base_y = (torch.arange(oH) * stride[0] - padding[0]).double().view(oH, 1)
    base_x = (torch.arange(oW) * stride[1] - padding[1]).double().view(1, oW)
    columns = torch.zeros(N, C, kh, kw, oH, oW, dtype=torch.float64)
    per_og = C // og
    for g in range(og):
        xs = x[:, g * per_og:(g + 1) * per_og]
        for i in range(kh):
            for j in range(kw):
                py = base_y + i * dilation[0] + offset[:, g, i, j, 0]  # [N, oH, oW]
                px = base_x + j * dilation[1] + offset[:, g, i, j, 1]
                grid = torch.stack([2 * px / (W - 1) - 1, 2 * py / (H - 1) - 1], dim=-1)
                sampled = F.grid_sample(xs, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
                columns[:, g * per_og:(g + 1) * per_og, i, j] = sampled * mask[:, g, i, j].unsqueeze(1)
    out = torch.zeros(N, oC, oH, oW, dtype=torch.float64)
    per_group = oC // groups
    for gi in range(groups):
        cols = columns[:, gi * Cg:(gi + 1) * Cg].reshape(N, Cg * kh * kw, oH * oW)
        w = weight[gi * per_group:(gi + 1) * per_group].reshape(per_group, Cg * kh * kw)
        out[:, gi * per_group:(gi + 1) * per_group] = torch.einsum("ok,nkp->nop", w, cols).view(N, per_group, oH, oW)
    if bias is not None:
        out += bias.double().view(1, -1, 1, 1)
    return out


class Decomposed(torch.nn.Module):
    """DCNv2 as exporters can write it: grid_sample per kernel tap (align_corners=True, pixel
    coordinates normalised by size - 1), times the mask, stacked channel-major, 1x1 conv."""

    def __init__(self, weight, bias, stride, padding, dilation):
        super().__init__()
        self.k = weight.shape[2:]
        self.conv = torch.nn.Conv2d(weight.shape[1] * self.k[0] * self.k[1], weight.shape[0], 1, bias=bias is not None)
        with torch.no_grad():
            self.conv.weight.copy_(weight.reshape(weight.shape[0], -1, 1, 1))
            if bias is not None:
                self.conv.bias.copy_(bias)
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x, offset, mask):
        N, C, H, W = x.shape
        oH, oW = offset.shape[2:]
        kh, kw = self.k
        ys = (torch.arange(oH) * self.stride[0] - self.padding[0]).float().view(1, oH, 1)
        xs = (torch.arange(oW) * self.stride[1] - self.padding[1]).float().view(1, 1, oW)
        taps = []
        for i in range(kh):
            for j in range(kw):
                t = i * kw + j
                py = ys + i * self.dilation[0] + offset[:, 2 * t]
                px = xs + j * self.dilation[1] + offset[:, 2 * t + 1]
                grid = torch.stack([2 * px / (W - 1) - 1, 2 * py / (H - 1) - 1], -1)
                sampled = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
                taps.append(sampled * mask[:, t:t + 1])
        cols = torch.stack(taps, 2).reshape(N, C * kh * kw, oH, oW)
        return self.conv(cols)


CASES = {
    # DCNv2 as in R50-DCN: 3x3, pad 1, two offset groups, large offsets (taps far outside)
    "modulated": dict(N=2, C=6, H=9, W=11, oC=8, k=(3, 3), stride=(1, 1), padding=(1, 1), dilation=(1, 1),
                      groups=1, offset_groups=2, modulated=True, bias=True, offset_scale=2.0, seed=1),
    # DCNv1 (no mask), strided, dilated, grouped, a non-square kernel, no bias
    "strided_grouped": dict(N=1, C=8, H=12, W=7, oC=6, k=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1),
                            groups=2, offset_groups=4, modulated=False, bias=False, offset_scale=1.0, seed=2),
    # one offset group, so it can also be written with grid_sample (decomposed.onnx); strided, dilated
    "decomposable": dict(N=1, C=5, H=10, W=9, oC=7, k=(3, 3), stride=(2, 1), padding=(2, 1), dilation=(2, 1),
                         groups=1, offset_groups=1, modulated=True, bias=True, offset_scale=1.5, seed=3),
}


def write_case(name, N, C, H, W, oC, k, stride, padding, dilation, groups, offset_groups, modulated, bias, offset_scale,
               seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, C, H, W, generator=g)
    weight = torch.randn(oC, C // groups, *k, generator=g) * 0.3
    b = torch.randn(oC, generator=g) if bias else None
    oH = (H + 2 * padding[0] - dilation[0] * (k[0] - 1) - 1) // stride[0] + 1
    oW = (W + 2 * padding[1] - dilation[1] * (k[1] - 1) - 1) // stride[1] + 1
    offset = torch.randn(N, 2 * offset_groups * k[0] * k[1], oH, oW, generator=g) * offset_scale
    mask = torch.sigmoid(torch.randn(N, offset_groups * k[0] * k[1], oH, oW, generator=g)) if modulated else None
    out = torchvision.ops.deform_conv2d(x, offset, weight, b, stride=stride, padding=padding, dilation=dilation, mask=mask)
    check = by_grid_sample(x, offset, mask, weight, b, stride, padding, dilation)
    err = (out.double() - check).norm() / check.norm()
    assert err < 1e-6, f"{name}: torchvision and the grid_sample formulation differ by {err:.3g}"

    folder = OUT_DIR / name
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"x": x, "offset": offset, "output": out}
    if modulated:
        arrays["mask"] = mask
    for key, t in arrays.items():
        np.save(folder / f"{key}.npy", t.numpy().astype(np.float32))

    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape)),
              helper.make_tensor_value_info("offset", TensorProto.FLOAT, list(offset.shape))]
    if modulated:
        inputs.append(helper.make_tensor_value_info("mask", TensorProto.FLOAT, list(mask.shape)))
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(out.shape))]
    initializers = [numpy_helper.from_array(weight.numpy(), "weight")]
    if bias:
        initializers.append(numpy_helper.from_array(b.numpy(), "bias"))

    onnx_inputs = ["x", "weight", "offset", "bias" if bias else "", "mask" if modulated else ""]
    while onnx_inputs[-1] == "":
        onnx_inputs.pop()
    node = helper.make_node("DeformConv", onnx_inputs, ["y"], name="dcn", group=groups, offset_group=offset_groups,
                            kernel_shape=list(k), strides=list(stride), dilations=list(dilation),
                            pads=[padding[0], padding[1], padding[0], padding[1]])
    model = helper.make_model(helper.make_graph([node], name, inputs, outputs, initializers),
                              opset_imports=[helper.make_opsetid("", 19)], producer_name="tools/reference/deform_conv.py")
    model.ir_version = 9
    onnx.save(model, folder / "onnx.onnx")

    if modulated:
        mmcv_inputs = ["x", "offset", "mask", "weight"] + (["bias"] if bias else [])
        node = helper.make_node("MMCVModulatedDeformConv2d", mmcv_inputs, ["y"], name="dcn", domain="mmcv",
                                stride=list(stride), padding=list(padding), dilation=list(dilation), groups=groups,
                                deform_groups=offset_groups)
        model = helper.make_model(helper.make_graph([node], name, inputs, outputs, initializers),
                                  opset_imports=[helper.make_opsetid("", 16), helper.make_opsetid("mmcv", 1)],
                                  producer_name="tools/reference/deform_conv.py")
        onnx.save(model, folder / "mmcv.onnx")
    if modulated and offset_groups == 1 and groups == 1:
        torch.onnx.export(Decomposed(weight, b, stride, padding, dilation), (x, offset, mask),
                          str(folder / "decomposed.onnx"), opset_version=16, input_names=["x", "offset", "mask"],
                          output_names=["y"])
    print(f"{name}: x {list(x.shape)} weight {list(weight.shape)} -> {list(out.shape)}; "
          f"torchvision vs grid_sample rel L2 {err:.2e}")


def main():
    for name, case in CASES.items():
        write_case(name, **case)


if __name__ == "__main__":
    sys.exit(main())
