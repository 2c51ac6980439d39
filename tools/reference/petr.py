#!/usr/bin/python3
"""PETR, the "PETR-tiny" configuration of shared/MODELS.md, written for nnc from the paper's and
MODELS.md's description (no code copied): image features of six cameras carry a 3D position
embedding made from the camera frustum, and a DETR-style decoder's queries (3D anchors) attend
to all of them. Seeded random weights; a judge of nnc on a second real detection architecture.

usage: /usr/bin/python3 tools/reference/petr.py   (writes tests/data/golden/petr_tiny/)

Host side, as MODELS.md asks: the frustum points of every feature cell lifted to the ego frame
with the inverse of each camera's lidar2img (matrix inversion stays out of the graph),
normalised to the position range and passed through inverse_sigmoid: `coords` [6, 48, 4, 10]
(16 depth bins x (x, y, z)). Graph inputs: img [1,6,3,64,160], coords. Outputs:
all_cls_scores [2,1,100,3], all_bbox_preds [2,1,100,10] (centres in metres, as the NMS-free
decode expects). Exported at opset 16 (LayerNorm spelled out, which fuse-layer-norm rebuilds).
The folder holds model.onnx, <input>.npy per input and output_<k>.npy per output.
"""
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bevformer import Backbone, calibrate_backbone, inverse_sigmoid  # noqa: E402  (the same tiny backbone)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/golden/petr_tiny"

D_MODEL, HEADS, CAMS, QUERIES, CLASSES, DEPTHS = 64, 4, 6, 100, 3, 16
FEAT_H, FEAT_W = 4, 10
PC_RANGE = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]


def sine_embed(x, dims):
    """Sine/cosine embedding of each coordinate in [0, 1] (dims per coordinate, T = 10000)."""
    freq = 10000 ** (2 * (torch.arange(dims) // 2) / dims)
    angles = x.unsqueeze(-1) * 2 * math.pi / freq
    emb = torch.stack([angles[..., 0::2].sin(), angles[..., 1::2].cos()], -1).flatten(-2)
    return emb.flatten(-2)


class DecoderLayer(nn.Module):  # post-norm: self-attn -> LN -> cross-attn -> LN -> FFN -> LN
    def __init__(self):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(D_MODEL, 128), nn.ReLU(), nn.Linear(128, D_MODEL))
        self.norms = nn.ModuleList([nn.LayerNorm(D_MODEL) for _ in range(3)])

    def forward(self, x, pos, memory, memory_pos):
        q = x + pos
        x = self.norms[0](x + self.self_attn(q, q, x, need_weights=False)[0])
        x = self.norms[1](x + self.cross_attn(x + pos, memory + memory_pos, memory, need_weights=False)[0])
        return self.norms[2](x + self.ffn(x))


class PETRTiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = Backbone()
        self.input_proj = nn.Conv2d(64, D_MODEL, 1)
        self.position_encoder = nn.Sequential(nn.Conv2d(3 * DEPTHS, 256, 1), nn.ReLU(), nn.Conv2d(256, D_MODEL, 1))
        self.adapt_pos = nn.Sequential(nn.Conv2d(3 * D_MODEL // 2, 256, 1), nn.ReLU(), nn.Conv2d(256, D_MODEL, 1))
        self.anchors = nn.Embedding(QUERIES, 3)
        nn.init.uniform_(self.anchors.weight, 0, 1)
        self.query_pos = nn.Sequential(nn.Linear(3 * D_MODEL // 2, D_MODEL), nn.ReLU(), nn.Linear(D_MODEL, D_MODEL))
        self.decoder = nn.ModuleList([DecoderLayer() for _ in range(2)])
        self.final_norm = nn.LayerNorm(D_MODEL)
        self.cls = nn.Sequential(nn.Linear(D_MODEL, D_MODEL), nn.LayerNorm(D_MODEL), nn.ReLU(),
                                 nn.Linear(D_MODEL, D_MODEL), nn.LayerNorm(D_MODEL), nn.ReLU(), nn.Linear(D_MODEL, CLASSES))
        self.reg = nn.Sequential(nn.Linear(D_MODEL, D_MODEL), nn.ReLU(), nn.Linear(D_MODEL, D_MODEL), nn.ReLU(),
                                 nn.Linear(D_MODEL, 10))
        # Multi-view sine PE over (camera, row, column), all cells valid (no padding at this size).
        cam = torch.arange(1, CAMS + 1).float().view(CAMS, 1, 1).expand(CAMS, FEAT_H, FEAT_W) / CAMS
        row = torch.arange(1, FEAT_H + 1).float().view(1, FEAT_H, 1).expand(CAMS, FEAT_H, FEAT_W) / FEAT_H
        col = torch.arange(1, FEAT_W + 1).float().view(1, 1, FEAT_W).expand(CAMS, FEAT_H, FEAT_W) / FEAT_W
        sine = sine_embed(torch.stack([cam, row, col], -1), D_MODEL // 2)  # [6, 4, 10, 96]
        self.register_buffer("view_sine", sine.permute(0, 3, 1, 2).contiguous())

    def forward(self, img, coords):
        B = img.shape[0]
        feats = self.input_proj(self.backbone(img.flatten(0, 1)))  # [6B, 64, 4, 10]
        pos = self.position_encoder(coords) + self.adapt_pos(self.view_sine)
        memory = feats.flatten(2).transpose(1, 2).reshape(B, CAMS * FEAT_H * FEAT_W, D_MODEL)
        memory_pos = pos.flatten(2).transpose(1, 2).reshape(B, CAMS * FEAT_H * FEAT_W, D_MODEL)
        anchors = self.anchors.weight.unsqueeze(0).expand(B, -1, -1)
        query_pos = self.query_pos(sine_embed(anchors[..., [1, 0, 2]], D_MODEL // 2))
        x = torch.zeros_like(query_pos)
        scores, boxes = [], []
        lo, hi = torch.tensor(PC_RANGE[:3]), torch.tensor(PC_RANGE[3:])
        for layer in self.decoder:
            x = layer(x, query_pos, memory, memory_pos)
            out = self.final_norm(x)
            delta = self.reg(out)
            centre = (delta[..., [0, 1, 4]] + inverse_sigmoid(anchors)).sigmoid() * (hi - lo) + lo
            scores.append(self.cls(out))
            boxes.append(torch.cat([centre[..., :2], delta[..., 2:4], centre[..., 2:3], delta[..., 5:]], -1))
        return torch.stack(scores), torch.stack(boxes)


def host_coords(seed):
    """Frustum points of each feature cell at 16 depths, lifted with inverse(lidar2img) of a
    six-camera ring (MODELS.md section 2), normalised and inverse-sigmoided: [6, 48, 4, 10]."""
    g = torch.Generator().manual_seed(seed)
    img_h, img_w = 64, 160
    k = torch.arange(DEPTHS).float()
    depth = 1 + 60.2 / (DEPTHS * (DEPTHS + 1)) * k * (k + 1)
    v, u = torch.meshgrid(torch.arange(FEAT_H).float() * img_h / FEAT_H, torch.arange(FEAT_W).float() * img_w / FEAT_W,
                          indexing="ij")
    points = torch.stack([u[None] * depth[:, None, None], v[None] * depth[:, None, None],
                          depth[:, None, None].expand(DEPTHS, FEAT_H, FEAT_W), torch.ones(DEPTHS, FEAT_H, FEAT_W)], -1)
    coords = []
    for cam in range(CAMS):
        yaw = cam * math.pi / 3 + 0.05 * float(torch.randn(1, generator=g))
        # camera axes in the ego frame: x right, y down, z forward
        fwd = torch.tensor([math.cos(yaw), math.sin(yaw), 0.0])
        right = torch.tensor([math.sin(yaw), -math.cos(yaw), 0.0])
        down = torch.tensor([0.0, 0.0, -1.0])
        cam2ego = torch.eye(4)
        cam2ego[:3, :3] = torch.stack([right, down, fwd], 1)
        cam2ego[:3, 3] = torch.tensor([0.0, 0.0, 1.6])
        intrinsics = torch.tensor([[80.0, 0, img_w / 2, 0], [0, 80.0, img_h / 2, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        lidar2img = intrinsics @ torch.linalg.inv(cam2ego)
        ego = points @ torch.linalg.inv(lidar2img).T  # [D, H, W, 4]
        lo, hi = torch.tensor([-61.2, -61.2, -10.0]), torch.tensor([61.2, 61.2, 10.0])
        xyz = (ego[..., :3] - lo) / (hi - lo)
        coords.append(inverse_sigmoid(xyz).permute(0, 3, 1, 2).reshape(DEPTHS * 3, FEAT_H, FEAT_W))
    return torch.stack(coords)


def main():
    torch.manual_seed(0)
    model = PETRTiny()
    calibrate_backbone(model)
    g = torch.Generator().manual_seed(1)
    inputs = {"img": torch.randn(1, CAMS, 3, 64, 160, generator=g), "coords": host_coords(seed=2)}
    with torch.no_grad():
        outputs = model(*inputs.values())
    OUT.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(model, tuple(inputs.values()), str(OUT / "model.onnx"), opset_version=16,
                      input_names=list(inputs), output_names=["all_cls_scores", "all_bbox_preds"])
    for name, t in inputs.items():
        np.save(OUT / f"{name}.npy", t.numpy().astype(np.float32))
    for k, t in enumerate(outputs):
        np.save(OUT / f"output_{k}.npy", t.numpy().astype(np.float32))
    print(f"petr_tiny: {sum(p.numel() for p in model.parameters()) / 1e6:.3f} M params; "
          f"outputs {[list(t.shape) for t in outputs]}")


if __name__ == "__main__":
    sys.exit(main())
