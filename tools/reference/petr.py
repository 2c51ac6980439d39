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
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bevformer import Backbone, calibrate_backbone, inverse_sigmoid  # noqa: E402  (the same tiny backbone)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/golden/petr_tiny"



class Config:
    """Sizes of a PETR; the defaults are MODELS.md's PETR-tiny, R50_P4 the published PETR with
    its ResNet-50 (DCNv2 in stages 3 and 4) and CPFPN neck, stride-16 features, at 800x320."""

    def __init__(self, **kw):
        self.d_model, self.heads, self.cams, self.queries, self.classes, self.depths = 64, 4, 6, 100, 3, 16
        self.feat_h, self.feat_w, self.img_h, self.img_w = 4, 10, 64, 160
        self.ffn, self.pe_hidden, self.decoder_layers, self.backbone = 128, 256, 2, "tiny"
        self.__dict__.update(kw)


TINY = Config()
R50_P4 = Config(d_model=256, heads=8, queries=900, classes=10, depths=64, feat_h=20, feat_w=50, img_h=320, img_w=800,
                ffn=2048, pe_hidden=1024, decoder_layers=6, backbone="r50dcn")
D_MODEL, HEADS, CAMS, QUERIES, CLASSES, DEPTHS = TINY.d_model, TINY.heads, TINY.cams, TINY.queries, TINY.classes, TINY.depths
FEAT_H, FEAT_W = TINY.feat_h, TINY.feat_w
PC_RANGE = [-51.2, -51.2, -5.0, 51.2, 51.2, 3.0]


def sine_embed(x, dims):
    """Sine/cosine embedding of each coordinate in [0, 1] (dims per coordinate, T = 10000)."""
    freq = 10000 ** (2 * (torch.arange(dims) // 2) / dims)
    angles = x.unsqueeze(-1) * 2 * math.pi / freq
    emb = torch.stack([angles[..., 0::2].sin(), angles[..., 1::2].cos()], -1).flatten(-2)
    return emb.flatten(-2)


class DecoderLayer(nn.Module):  # post-norm: self-attn -> LN -> cross-attn -> LN -> FFN -> LN
    def __init__(self, cfg=TINY):
        super().__init__()
        C = cfg.d_model
        self.self_attn = nn.MultiheadAttention(C, cfg.heads, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(C, cfg.heads, batch_first=True)
        self.ffn = nn.Sequential(nn.Linear(C, cfg.ffn), nn.ReLU(), nn.Linear(cfg.ffn, C))
        self.norms = nn.ModuleList([nn.LayerNorm(C) for _ in range(3)])

    def forward(self, x, pos, memory, memory_pos):
        q = x + pos
        x = self.norms[0](x + self.self_attn(q, q, x, need_weights=False)[0])
        x = self.norms[1](x + self.cross_attn(x + pos, memory + memory_pos, memory, need_weights=False)[0])
        return self.norms[2](x + self.ffn(x))


class DCNv2(nn.Module):
    """Modulated deformable 3x3 conv as mmcv's DCNv2 pack computes it (offsets and mask from a
    3x3 conv of the input), written as kernel-tap grid_samples so that it exports."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv_offset = nn.Conv2d(c_in, 27, 3, stride=stride, padding=1)
        nn.init.normal_(self.conv_offset.weight, std=0.01)  # offsets of about a pixel, not zero
        self.weight = nn.Parameter(torch.empty(c_out, c_in, 3, 3))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.stride = stride

    def forward(self, x):
        o1, o2, mask = self.conv_offset(x).chunk(3, 1)
        offset, mask = torch.cat([o1, o2], 1), mask.sigmoid()
        N, C, H, W = x.shape
        oH, oW = offset.shape[2:]
        ys = (torch.arange(oH) * self.stride - 1).float().view(1, oH, 1)
        xs = (torch.arange(oW) * self.stride - 1).float().view(1, 1, oW)
        taps = []
        for t in range(9):
            py = ys + t // 3 + offset[:, 2 * t]
            px = xs + t % 3 + offset[:, 2 * t + 1]
            grid = torch.stack([2 * px / (W - 1) - 1, 2 * py / (H - 1) - 1], -1)
            taps.append(F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True) * mask[:, t:t + 1])
        cols = torch.stack(taps, 2).reshape(N, C * 9, oH, oW)
        return F.conv2d(cols, self.weight.reshape(self.weight.shape[0], -1, 1, 1))


class R50DcnCPFPN(nn.Module):
    """torchvision ResNet-50 with DCNv2 as the 3x3 conv of stages 3 and 4; CPFPN: 1x1 laterals of
    C4 and C5 to d_model, C5's nearest-upsampled onto C4's, a 3x3 conv on that sum (stride 16)."""

    def __init__(self, d_model):
        super().__init__()
        import torchvision
        r = torchvision.models.resnet50()
        for stage in (r.layer3, r.layer4):
            for block in stage:
                block.conv2 = DCNv2(block.conv2.in_channels, block.conv2.out_channels, block.conv2.stride[0])
        self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2)
        self.layer3, self.layer4 = r.layer3, r.layer4
        self.lateral4, self.lateral5 = nn.Conv2d(1024, d_model, 1), nn.Conv2d(2048, d_model, 1)
        self.fpn = nn.Conv2d(d_model, d_model, 3, padding=1)

    def forward(self, x):
        c4 = self.layer3(self.stem(x))
        c5 = self.layer4(c4)
        p4 = self.lateral4(c4) + F.interpolate(self.lateral5(c5), size=c4.shape[2:], mode="nearest")
        return self.fpn(p4)


class PETRTiny(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        C, cams, fh, fw = cfg.d_model, cfg.cams, cfg.feat_h, cfg.feat_w
        self.cfg = cfg
        self.backbone = Backbone() if cfg.backbone == "tiny" else R50DcnCPFPN(C)
        self.input_proj = nn.Conv2d(64 if cfg.backbone == "tiny" else C, C, 1)
        self.position_encoder = nn.Sequential(nn.Conv2d(3 * cfg.depths, cfg.pe_hidden, 1), nn.ReLU(),
                                              nn.Conv2d(cfg.pe_hidden, C, 1))
        self.adapt_pos = nn.Sequential(nn.Conv2d(3 * C // 2, cfg.pe_hidden, 1), nn.ReLU(), nn.Conv2d(cfg.pe_hidden, C, 1))
        self.anchors = nn.Embedding(cfg.queries, 3)
        nn.init.uniform_(self.anchors.weight, 0, 1)
        self.query_pos = nn.Sequential(nn.Linear(3 * C // 2, C), nn.ReLU(), nn.Linear(C, C))
        self.decoder = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.decoder_layers)])
        self.final_norm = nn.LayerNorm(C)
        self.cls = nn.Sequential(nn.Linear(C, C), nn.LayerNorm(C), nn.ReLU(),
                                 nn.Linear(C, C), nn.LayerNorm(C), nn.ReLU(), nn.Linear(C, cfg.classes))
        self.reg = nn.Sequential(nn.Linear(C, C), nn.ReLU(), nn.Linear(C, C), nn.ReLU(), nn.Linear(C, 10))
        # Multi-view sine PE over (camera, row, column), all cells valid (no padding at this size).
        cam = torch.arange(1, cams + 1).float().view(cams, 1, 1).expand(cams, fh, fw) / cams
        row = torch.arange(1, fh + 1).float().view(1, fh, 1).expand(cams, fh, fw) / fh
        col = torch.arange(1, fw + 1).float().view(1, 1, fw).expand(cams, fh, fw) / fw
        sine = sine_embed(torch.stack([cam, row, col], -1), C // 2)  # [cams, fh, fw, 3·C/2]
        self.register_buffer("view_sine", sine.permute(0, 3, 1, 2).contiguous())

    def forward(self, img, coords):
        B = img.shape[0]
        C, tokens = self.cfg.d_model, self.cfg.cams * self.cfg.feat_h * self.cfg.feat_w
        feats = self.input_proj(self.backbone(img.flatten(0, 1)))  # [cams·B, C, feat_h, feat_w]
        frustum_pos = self.position_encoder(coords)
        view_pos = self.adapt_pos(self.view_sine)
        if B > 1:  # training batches (the export traces B = 1, so the graph has no Tile)
            view_pos = view_pos.repeat(B, 1, 1, 1)
        pos = frustum_pos + view_pos
        memory = feats.flatten(2).transpose(1, 2).reshape(B, tokens, C)
        memory_pos = pos.flatten(2).transpose(1, 2).reshape(B, tokens, C)
        anchors = self.anchors.weight.unsqueeze(0).expand(B, -1, -1)
        query_pos = self.query_pos(sine_embed(anchors[..., [1, 0, 2]], C // 2))
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
