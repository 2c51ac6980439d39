#!/usr/bin/python3
"""BEVFormer, the "BEV-tiny" configuration of shared/MODELS.md, written for nnc from the paper's
and MODELS.md's description (no code copied): spatio-temporal BEV encoder with temporal
self-attention (TSA) and spatial cross-attention (SCA), DETR-style decoder with deformable
attention on the BEV map and box refinement. Seeded random weights; the judge of nnc's import,
fuse-deform-attn and MSDeformAttn on a real architecture.

usage: /usr/bin/python3 tools/reference/bevformer.py   (writes tests/data/golden/bevformer_tiny/)

Host side, as MODELS.md asks (not in the graph): the camera projection of the BEV pillars
(ref_cam, bev_mask), the ego-motion shift of the history reference points (hist_ref) and the
previous BEV itself. Graph inputs: img [1,6,3,64,160], can_bus [1,18], prev_bev [1,256,64],
hist_ref [1,256,2], ref_cam [6,1,256,4,2], bev_mask [6,1,256,4]. Outputs: bev_embed [1,256,64],
all_cls_scores [2,1,50,3], all_bbox_preds [2,1,50,10]. Deformable attention is Deformable
DETR's GridSample-per-level formulation (tools/reference/deform_attn.py), exported at opset 16.
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
from deform_attn import by_grid_sample  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests/data/golden/bevformer_tiny"



class Config:
    """Sizes of a BEVFormer; the defaults are MODELS.md's BEV-tiny, FULL_TINY the published
    BEVFormer-tiny (R50 C5 + 1-level FPN at 800x480, BEV 50x50, 3 encoder / 6 decoder layers)."""

    def __init__(self, **kw):
        self.d_model, self.heads, self.bev, self.cams, self.queries, self.classes = 64, 4, 16, 6, 50, 3
        self.feat_h, self.feat_w, self.img_h, self.img_w = 4, 10, 64, 160
        self.ffn, self.can_hidden, self.encoder_layers, self.decoder_layers = 128, 32, 2, 2
        self.backbone = "tiny"
        self.__dict__.update(kw)


TINY = Config()
FULL_TINY = Config(d_model=256, heads=8, bev=50, queries=900, classes=10, feat_h=15, feat_w=25, img_h=480, img_w=800,
                   ffn=512, can_hidden=128, encoder_layers=3, decoder_layers=6, backbone="r50")
D_MODEL, HEADS, BEV_H, BEV_W, CAMS, QUERIES, CLASSES = TINY.d_model, TINY.heads, TINY.bev, TINY.bev, TINY.cams, TINY.queries, TINY.classes
FEAT_H, FEAT_W = TINY.feat_h, TINY.feat_w


def inverse_sigmoid(x, eps=1e-5):
    x = x.clamp(0, 1)
    return torch.log(x.clamp(min=eps) / (1 - x).clamp(min=eps))


class Backbone(nn.Module):  # 8 x (Conv3x3-BN-ReLU), four of them stride 2: 64x160 -> 4x10
    def __init__(self):
        super().__init__()
        chans, layers, c_in = [16, 16, 32, 32, 64, 64, 64, 64], [], 3
        for i, c in enumerate(chans):
            layers += [nn.Conv2d(c_in, c, 3, stride=2 if i % 2 == 0 else 1, padding=1), nn.BatchNorm2d(c), nn.ReLU()]
            c_in = c
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)


class R50C5(nn.Module):  # torchvision ResNet-50 to C5 (stride 32, 2048 ch), then a 1-level FPN to d_model
    def __init__(self, d_model):
        super().__init__()
        import torchvision
        r = torchvision.models.resnet50()
        self.body = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2, r.layer3, r.layer4)
        self.lateral = nn.Conv2d(2048, d_model, 1)
        self.fpn = nn.Conv2d(d_model, d_model, 3, padding=1)

    def forward(self, x):
        return self.fpn(self.lateral(self.body(x)))


class DeformAttn(nn.Module):
    """Offsets and weights from the query, deformable sampling of `value` over one level."""

    def __init__(self, points, query_dim=None, queue=1, anchors=1, cfg=TINY):
        super().__init__()
        self.cfg = cfg
        query_dim = query_dim or cfg.d_model
        self.points, self.queue, self.anchors = points, queue, anchors
        self.offsets = nn.Linear(query_dim, queue * cfg.heads * points * 2)
        self.weights = nn.Linear(query_dim, queue * cfg.heads * points)
        self.value_proj = nn.Linear(cfg.d_model, cfg.d_model)
        nn.init.normal_(self.offsets.weight, std=0.02)
        nn.init.uniform_(self.offsets.bias, -1.5, 1.5)  # points up to ~1.5 cells away, some off the map

    def forward(self, query, value, reference, shape):
        # query [B, Q, query_dim]; value [B·queue, S, C]; reference [B·queue, Q, anchors, 2] in [0, 1]
        B, Q, _ = query.shape
        Bv, S, _ = value.shape
        h, w = shape
        M, C = self.cfg.heads, self.cfg.d_model
        v = self.value_proj(value).view(Bv, S, M, C // M)
        off = self.offsets(query).view(B, Q, M, self.queue, 1, self.points, 2)
        off = off.permute(0, 3, 1, 2, 4, 5, 6).reshape(B * self.queue, Q, M, 1, self.points, 2)
        att = self.weights(query).view(B, Q, M, self.queue, self.points).softmax(-1)
        att = att.permute(0, 3, 1, 2, 4).reshape(B * self.queue, Q, M, 1, self.points)
        norm = torch.tensor([w, h], dtype=torch.float32)
        per_anchor = self.points // self.anchors
        off = off.view(B * self.queue, Q, M, 1, per_anchor, self.anchors, 2) / norm
        ref = reference[:, :, None, None, None, :, :]
        loc = (ref + off).view(B * self.queue, Q, M, 1, self.points, 2)
        return by_grid_sample(v, [(h, w)], loc, att)


class EncoderLayer(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        C = cfg.d_model
        self.cfg = cfg
        self.tsa = DeformAttn(points=4, query_dim=2 * C, queue=2, cfg=cfg)
        self.tsa_out = nn.Linear(C, C)
        self.sca = DeformAttn(points=8, anchors=4, cfg=cfg)
        self.sca_out = nn.Linear(C, C)
        self.ffn = nn.Sequential(nn.Linear(C, cfg.ffn), nn.ReLU(), nn.Linear(cfg.ffn, C))
        self.norms = nn.ModuleList([nn.LayerNorm(C) for _ in range(3)])

    def forward(self, bev, bev_pos, prev_bev, ref_2d, feats, ref_cam, bev_mask):
        B, Q, C = bev.shape
        # Temporal self-attention: values are (previous BEV, current queries); results averaged.
        query = torch.cat([prev_bev, bev + bev_pos], -1)
        value = torch.stack([prev_bev, bev], 1).reshape(B * 2, Q, C)
        cams = self.cfg.cams
        out = self.tsa(query, value, ref_2d, (self.cfg.bev, self.cfg.bev)).view(B, 2, Q, C).mean(1)
        bev = self.norms[0](bev + self.tsa_out(out))
        # Spatial cross-attention, dense: every camera sees every query; the mask keeps the hits.
        q = bev.unsqueeze(0).expand(cams, B, Q, C).reshape(cams * B, Q, C)
        out = self.sca(q, feats, ref_cam.reshape(cams * B, Q, 4, 2), (self.cfg.feat_h, self.cfg.feat_w)).view(cams, B, Q, C)
        hits = (bev_mask.sum(-1) > 0).float()  # [CAMS, B, Q]
        out = (out * hits.unsqueeze(-1)).sum(0) / hits.sum(0).clamp(min=1).unsqueeze(-1)
        bev = self.norms[1](bev + self.sca_out(out))
        return self.norms[2](bev + self.ffn(bev))


class DecoderLayer(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        C = cfg.d_model
        self.cfg = cfg
        self.self_attn = nn.MultiheadAttention(C, cfg.heads, batch_first=True)
        self.cross = DeformAttn(points=4, cfg=cfg)
        self.cross_out = nn.Linear(C, C)
        self.ffn = nn.Sequential(nn.Linear(C, cfg.ffn), nn.ReLU(), nn.Linear(cfg.ffn, C))
        self.norms = nn.ModuleList([nn.LayerNorm(C) for _ in range(3)])

    def forward(self, x, pos, bev, ref):
        q = x + pos
        x = self.norms[0](x + self.self_attn(q, q, x, need_weights=False)[0])
        out = self.cross(x + pos, bev, ref[..., :2].unsqueeze(2), (self.cfg.bev, self.cfg.bev))
        x = self.norms[1](x + self.cross_out(out))
        return self.norms[2](x + self.ffn(x))


class BEVFormerTiny(nn.Module):
    def __init__(self, cfg=TINY):
        super().__init__()
        C, n = cfg.d_model, cfg.bev
        self.cfg = cfg
        self.backbone = Backbone() if cfg.backbone == "tiny" else R50C5(C)
        self.cams_embeds = nn.Parameter(torch.randn(cfg.cams, C) * 0.1)
        self.level_embed = nn.Parameter(torch.randn(1, C) * 0.1)
        self.bev_queries = nn.Embedding(n * n, C)
        self.row_embed, self.col_embed = nn.Embedding(n, C // 2), nn.Embedding(n, C // 2)
        self.can_bus = nn.Sequential(nn.Linear(18, cfg.can_hidden), nn.ReLU(), nn.Linear(cfg.can_hidden, C), nn.ReLU(),
                                     nn.LayerNorm(C))
        self.encoder = nn.ModuleList([EncoderLayer(cfg) for _ in range(cfg.encoder_layers)])
        self.query_embedding = nn.Embedding(cfg.queries, 2 * C)
        self.ref_points = nn.Linear(C, 3)
        self.decoder = nn.ModuleList([DecoderLayer(cfg) for _ in range(cfg.decoder_layers)])
        self.cls = nn.ModuleList([nn.Sequential(nn.Linear(C, C), nn.LayerNorm(C), nn.ReLU(),
                                                nn.Linear(C, C), nn.LayerNorm(C), nn.ReLU(),
                                                nn.Linear(C, cfg.classes)) for _ in range(cfg.decoder_layers)])
        self.reg = nn.ModuleList([nn.Sequential(nn.Linear(C, C), nn.ReLU(), nn.Linear(C, C),
                                                nn.ReLU(), nn.Linear(C, 10)) for _ in range(cfg.decoder_layers)])
        ys, xs = torch.meshgrid((torch.arange(n) + 0.5) / n, (torch.arange(n) + 0.5) / n, indexing="ij")
        self.register_buffer("bev_ref", torch.stack([xs, ys], -1).view(1, n * n, 1, 2))

    def forward(self, img, can_bus, prev_bev, hist_ref, ref_cam, bev_mask):
        B = img.shape[0]
        cfg, C, n = self.cfg, self.cfg.d_model, self.cfg.bev
        cams, hw = cfg.cams, cfg.feat_h * cfg.feat_w
        feats = self.backbone(img.flatten(0, 1))  # [B·6, C, feat_h, feat_w]
        feats = feats.flatten(2).transpose(1, 2).view(B, cams, hw, C)
        feats = (feats + self.cams_embeds[None, :, None, :] + self.level_embed[None]).transpose(0, 1)
        feats = feats.reshape(cams * B, hw, C)
        bev = self.bev_queries.weight.unsqueeze(0).expand(B, -1, -1) + self.can_bus(can_bus).unsqueeze(1)
        pos = torch.cat([self.col_embed.weight.unsqueeze(0).expand(n, -1, -1),
                         self.row_embed.weight.unsqueeze(1).expand(-1, n, -1)], -1).view(1, n * n, C)
        ref_2d = torch.stack([hist_ref.unsqueeze(2), self.bev_ref.expand(B, -1, -1, -1)], 1).view(B * 2, -1, 1, 2)
        for layer in self.encoder:
            bev = layer(bev, pos, prev_bev, ref_2d, feats, ref_cam, bev_mask)
        query_pos, x = self.query_embedding.weight.unsqueeze(0).expand(B, -1, -1).split(C, -1)
        ref = self.ref_points(query_pos).sigmoid()
        scores, boxes = [], []
        for layer, cls, reg in zip(self.decoder, self.cls, self.reg):
            x = layer(x, query_pos, bev, ref)
            delta = reg(x)
            xy = (delta[..., :2] + inverse_sigmoid(ref[..., :2])).sigmoid()
            z = (delta[..., 4:5] + inverse_sigmoid(ref[..., 2:3])).sigmoid()
            ref = torch.cat([xy, z], -1)
            scores.append(cls(x))
            boxes.append(torch.cat([xy, delta[..., 2:4], z, delta[..., 5:]], -1))
        return bev, torch.stack(scores), torch.stack(boxes)


def calibrate_backbone(model):
    """BN statistics of a random batch, then a random affine, so BN folding has work to do."""
    with torch.no_grad():
        model.train()
        model.backbone(torch.randn(12, 3, 64, 160))
        model.eval()
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)


def host_inputs(seed):
    """What the host computes for one frame of a synthetic six-camera rig (MODELS.md section 3)."""
    g = torch.Generator().manual_seed(seed)
    img = torch.randn(1, CAMS, 3, 64, 160, generator=g)
    can_bus = torch.randn(1, 18, generator=g) * 0.5
    prev_bev = torch.randn(1, BEV_H * BEV_W, D_MODEL, generator=g)
    ys, xs = torch.meshgrid((torch.arange(BEV_H) + 0.5) / BEV_H, (torch.arange(BEV_W) + 0.5) / BEV_W, indexing="ij")
    hist_ref = torch.stack([xs, ys], -1).view(1, -1, 2) + torch.tensor([0.03, -0.02])  # ego moved a little
    # Each camera sees a 60-degree sector: pillar (x, y) at height z projects to u by its bearing
    # and v by its height over distance; outside the sector or behind it is masked.
    cx, cy = (xs.flatten() - 0.5) * 51.2, (ys.flatten() - 0.5) * 51.2
    ref_cam = torch.zeros(CAMS, 1, BEV_H * BEV_W, 4, 2)
    bev_mask = torch.zeros(CAMS, 1, BEV_H * BEV_W, 4)
    for cam in range(CAMS):
        yaw = cam * math.pi / 3
        fwd = cx * math.cos(yaw) + cy * math.sin(yaw)
        side = -cx * math.sin(yaw) + cy * math.cos(yaw)
        for k, z in enumerate([-4.5, -2.5, -0.5, 1.5]):
            depth = fwd.clamp(min=1e-5)
            u = 0.5 + side / depth * 0.5
            v = 0.5 - (z + 1.0) / depth * 1.5
            ref_cam[cam, 0, :, k] = torch.stack([u, v], -1)
            bev_mask[cam, 0, :, k] = ((fwd > 1e-5) & (u > 0) & (u < 1) & (v > 0) & (v < 1)).float()
    return {"img": img, "can_bus": can_bus, "prev_bev": prev_bev, "hist_ref": hist_ref, "ref_cam": ref_cam,
            "bev_mask": bev_mask}


def main():
    torch.manual_seed(0)
    model = BEVFormerTiny().eval()
    calibrate_backbone(model)
    inputs = host_inputs(seed=1)
    with torch.no_grad():
        outputs = model(*inputs.values())
    OUT.mkdir(parents=True, exist_ok=True)
    names = ["bev_embed", "all_cls_scores", "all_bbox_preds"]
    torch.onnx.export(model, tuple(inputs.values()), str(OUT / "model.onnx"), opset_version=16,
                      input_names=list(inputs), output_names=names)
    for name, t in inputs.items():
        np.save(OUT / f"{name}.npy", t.numpy().astype(np.float32))
    for k, t in enumerate(outputs):
        np.save(OUT / f"output_{k}.npy", t.numpy().astype(np.float32))
    visible = inputs["bev_mask"].amax(-1).sum(0)
    print(f"bevformer_tiny: {sum(p.numel() for p in model.parameters()) / 1e6:.3f} M params; "
          f"outputs {[list(t.shape) for t in outputs]}; queries seen by 0/1/2+ cameras: "
          f"{int((visible == 0).sum())}/{int((visible == 1).sum())}/{int((visible >= 2).sum())}")


if __name__ == "__main__":
    sys.exit(main())
