#!/usr/bin/python3
"""Train the tiny PETR and BEVFormer of tools/reference on synthetic scenes and export them.

usage:
  /usr/bin/python3 tools/reference/train_detectors.py petr      [--minutes 40] [--out models/petr/petr_tiny.onnx]
  /usr/bin/python3 tools/reference/train_detectors.py bevformer [--minutes 40] [--out models/bevformer/bevformer_tiny.onnx]

The weights also land beside the export as .pt (not committed): detect3d_goldens.py reads them.

Both train on the same generated drives (synthetic_scenes.py: 3 frames each, cached in
--cache), with the host tensors computed exactly as nnc's C++ computes them at inference
(models/detect3d). Loss as in the papers, scaled down: Hungarian matching (class probability +
centre distance) per decoder layer, sigmoid focal loss on the classes, L1 on the box terms.
BEVFormer trains on consecutive pairs: the previous frame runs without gradient from a zero
history, its BEV is aligned to the current ego pose on the host, and the current frame learns
from it; one pair in five starts from a zero history (a sequence's first frame).
The exported ONNX carries metadata_props that nnc's pipelines read (detector, classes, ranges).
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_scenes as ss  # noqa: E402
import petr as petr_ref  # noqa: E402
import bevformer as bev_ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REG_WEIGHTS = torch.tensor([1, 1, 0.5, 0.5, 1, 0.5, 0.5, 0.5, 0.25, 0.25])  # vx, vy last (--velocity-weight)
LEARNING_RATE = 5e-4  # peak, after 200 warm-up steps; cosine decay over the time budget (--lr)
CENTRE_SCALE = 4.0  # metres per loss unit for centres


def make_dataset(cache, drives, seed):
    """Drives of three frames: images uint8 [N,3,6,H,W,3], poses [N,3,4,4], boxes per frame."""
    if cache.exists():
        data = np.load(cache, allow_pickle=True)
        return data["images"], data["poses"], list(data["boxes"])
    rng = np.random.default_rng(seed)
    rig = ss.camera_rig()
    images, poses, boxes = [], [], []
    t0 = time.time()
    for d in range(drives):
        frames = ss.sequence(rng, 3, rig, seed + d)
        images.append([f[0] for f in frames])
        poses.append([f[1] for f in frames])
        boxes.append([[(ss.CLASSES.index(b["class"]), np.r_[b["center"], b["size"], b["yaw"], b["velocity"]])
                       for b in f[2]] for f in frames])
        if d % 200 == 0:
            print(f"  generated {d}/{drives} drives ({time.time() - t0:.0f} s)", flush=True)
    images, poses = np.asarray(images, np.uint8), np.asarray(poses)
    bx = np.empty(len(boxes), object)
    bx[:] = boxes
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, images=images, poses=poses, boxes=bx)
    return images, poses, boxes


def regression_target(box, centre_lo, centre_span):
    """(cx, cy, log w, log l, cz, log h, sin, cos, vx, vy) in the model's output convention."""
    x, y, z, w, l, h, yaw, vx, vy = box
    centre = (np.array([x, y, z]) - centre_lo) / centre_span
    return np.array([centre[0], centre[1], math.log(w), math.log(l), centre[2], math.log(h), math.sin(yaw),
                     math.cos(yaw), vx, vy], np.float32)


def detection_loss(all_scores, all_boxes, targets, centre_scale):
    """Sum over decoder layers and batch of focal + L1 after Hungarian matching.
    all_scores [layers,B,Q,C]; all_boxes [layers,B,Q,10]; targets: per sample (labels, regs)."""
    total = 0.0
    scale = torch.tensor([centre_scale[0], centre_scale[1], 1, 1, centre_scale[2], 1, 1, 1, 0.5, 0.5])
    for scores, boxes in zip(all_scores, all_boxes):
        for b, (labels, regs) in enumerate(targets):
            logits, pred = scores[b], boxes[b]
            onehot = torch.zeros_like(logits)
            if len(labels):
                with torch.no_grad():
                    prob = logits.sigmoid()
                    cost = -prob[:, labels] * 2 + torch.cdist(pred[:, [0, 1]] * scale[:2], regs[:, [0, 1]] * scale[:2], p=1)
                    rows, cols = linear_sum_assignment(cost.numpy())
                rows, cols = torch.as_tensor(rows), torch.as_tensor(cols)
                onehot[rows, labels[cols]] = 1
                diff = (pred[rows] - regs[cols]).abs() * scale * REG_WEIGHTS
                total = total + diff.sum() / max(len(labels), 1)
            p = logits.sigmoid()
            ce = F.binary_cross_entropy_with_logits(logits, onehot, reduction="none")
            pt = p * onehot + (1 - p) * (1 - onehot)
            alpha = 0.25 * onehot + 0.75 * (1 - onehot)
            total = total + 2 * (alpha * (1 - pt) ** 2 * ce).sum() / max(len(labels), 1)
    return total / (all_scores.shape[0] * len(targets))


def to_targets(frame_boxes, centre_lo, centre_span):
    labels = torch.tensor([c for c, _ in frame_boxes], dtype=torch.long)
    regs = torch.tensor(np.array([regression_target(b, centre_lo, centre_span) for _, b in frame_boxes]).reshape(-1, 10))
    return labels, regs


def add_metadata(path, entries):
    model = onnx.load(str(path))
    for k, v in entries.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(model, str(path))


def train_petr(images, poses, boxes, minutes, out, init=None):
    torch.manual_seed(0)
    model = petr_ref.PETRTiny()
    with torch.no_grad():  # anchors where the scenes are (+-24 m of +-51.2 m)
        model.anchors.weight.uniform_(0.28, 0.72)
        model.anchors.weight[:, 2].uniform_(0.4, 0.8)
    if init:
        model.load_state_dict(torch.load(init))
    rig = ss.camera_rig()
    coords = torch.tensor(ss.petr_coords([ss.lidar2img(K, s2e) for _, K, s2e in rig], ss.IMG_H, ss.IMG_W,
                                         petr_ref.FEAT_H, petr_ref.FEAT_W, petr_ref.DEPTHS))
    pc = ss.PETR_PC_RANGE
    # PETR's head emits centres in metres: the loss compares them in metres / CENTRE_SCALE.
    lo, span = np.zeros(3), np.ones(3)
    frames = [(d, f) for d in range(len(images)) for f in range(3)]
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=1e-4)
    loop(model, opt, minutes, frames,
         lambda batch: (model(torch.tensor(np.stack([ss.normalise_images(images[d][f]) for d, f in batch])),
                              coords.repeat(len(batch), 1, 1, 1)),
                        [to_targets(boxes[d][f], lo, span) for d, f in batch]),
         centre_scale=[1 / CENTRE_SCALE] * 3)
    model.eval()
    img = torch.tensor(ss.normalise_images(images[0][0]))[None]
    torch.save(model.state_dict(), out.with_suffix(".pt"))
    torch.onnx.export(model, (img, coords), str(out), opset_version=16, input_names=["img", "coords"],
                      output_names=["all_cls_scores", "all_bbox_preds"])
    add_metadata(out, {"nnc.detector": "petr", "nnc.classes": ",".join(ss.CLASSES),
                       "nnc.position_range": ",".join(f"{v:g}" for v in ss.POSITION_RANGE),
                       "nnc.pc_range": ",".join(f"{v:g}" for v in pc), "nnc.box_centres": "metres"})


def bev_host(model_images, poses, d, f, prev_bev):
    """The host inputs of one BEV frame given the previous frame's BEV (None: first frame)."""
    rig = ss.camera_rig()
    l2i = [ss.lidar2img(K, s2e) for _, K, s2e in rig]
    ref_cam, mask = ss.bev_ref_cam(l2i, bev_ref.BEV_H, bev_ref.BEV_W, ss.IMG_H, ss.IMG_W)
    if prev_bev is None:
        prev = np.zeros((bev_ref.BEV_H * bev_ref.BEV_W, bev_ref.D_MODEL), np.float32)
        shift, dyaw = np.zeros(3), 0.0
        _, hist_ref = ss.align_prev_bev(prev, bev_ref.BEV_H, bev_ref.BEV_W, shift, dyaw)
    else:
        shift, dyaw, _ = ss.ego_motion(poses[d][f - 1], poses[d][f])
        prev, hist_ref = ss.align_prev_bev(prev_bev, bev_ref.BEV_H, bev_ref.BEV_W, shift, dyaw)
    return (ss.normalise_images(model_images[d][f]), ss.can_bus(shift, dyaw), prev, hist_ref, ref_cam, mask)


def train_bevformer(images, poses, boxes, minutes, out, init=None):
    torch.manual_seed(0)
    model = bev_ref.BEVFormerTiny()
    if init:  # continue from earlier weights
        model.load_state_dict(torch.load(init))
    pc = ss.BEV_PC_RANGE
    lo, span = pc[:3], pc[3:] - pc[:3]
    pairs = [(d, f) for d in range(len(images)) for f in (1, 2)]
    rng = np.random.default_rng(5)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=1e-4)

    def batch_fn(batch):
        rows = []
        for d, f in batch:
            prev = None
            if rng.random() >= 0.2:
                first = bev_host(images, poses, d, f - 1, None)
                with torch.no_grad():
                    was = model.training
                    model.eval()
                    prev = model(*[torch.tensor(t)[None] if i < 4 else torch.tensor(t)
                                   for i, t in enumerate(first)])[0][0].numpy()
                    model.train(was)
            rows.append(bev_host(images, poses, d, f, prev))
        stacked = [torch.tensor(np.stack([r[i] for r in rows])) for i in range(4)]
        ref_cam = torch.tensor(np.concatenate([r[4] for r in rows], 1))
        mask = torch.tensor(np.concatenate([r[5] for r in rows], 1))
        outs = model(*stacked, ref_cam, mask)
        return outs[1:], [to_targets(boxes[d][f], lo, span) for d, f in batch]

    loop(model, opt, minutes, pairs, batch_fn, centre_scale=(span / CENTRE_SCALE).tolist())
    model.eval()
    example = bev_host(images, poses, 0, 0, None)
    inputs = tuple(torch.tensor(t)[None] if i < 4 else torch.tensor(t) for i, t in enumerate(example))
    torch.save(model.state_dict(), out.with_suffix(".pt"))
    torch.onnx.export(model, inputs, str(out), opset_version=16,
                      input_names=["img", "can_bus", "prev_bev", "hist_ref", "ref_cam", "bev_mask"],
                      output_names=["bev_embed", "all_cls_scores", "all_bbox_preds"])
    add_metadata(out, {"nnc.detector": "bevformer", "nnc.classes": ",".join(ss.CLASSES),
                       "nnc.pc_range": ",".join(f"{v:g}" for v in pc), "nnc.box_centres": "normalized"})


def loop(model, opt, minutes, items, batch_fn, centre_scale, batch_size=8):
    model.train()
    rng = np.random.default_rng(0)
    start, step, losses = time.time(), 0, []
    deadline = start + minutes * 60
    while time.time() < deadline:
        order = rng.permutation(len(items))
        for i in range(0, len(order) - batch_size + 1, batch_size):
            if time.time() >= deadline:
                break
            (scores, boxes), targets = batch_fn([items[j] for j in order[i:i + batch_size]])
            loss = detection_loss(scores, boxes, targets, centre_scale)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            # cosine decay over the time budget
            frac = min((time.time() - start) / (minutes * 60), 1.0)
            for g in opt.param_groups:
                g["lr"] = LEARNING_RATE * (min(1.0, (step + 1) / 200)) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            opt.step()
            losses.append(float(loss))
            step += 1
            if step % 50 == 0 or step == 10:
                print(f"  step {step}  loss {np.mean(losses[-50:]):.3f}  ({time.time() - start:.0f} s)", flush=True)
    print(f"  {step} steps of {batch_size} in {time.time() - start:.0f} s; last loss {np.mean(losses[-50:]):.3f}")


def main():
    global LEARNING_RATE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("detector", choices=["petr", "bevformer"])
    ap.add_argument("--minutes", type=float, default=40)
    ap.add_argument("--drives", type=int, default=1000)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/nnc_detect3d_train.npz"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--init", type=Path, help="continue from these weights (.pt)")
    ap.add_argument("--lr", type=float, default=LEARNING_RATE)
    ap.add_argument("--velocity-weight", type=float, default=float(REG_WEIGHTS[8]))
    args = ap.parse_args()
    LEARNING_RATE = args.lr
    REG_WEIGHTS[8:10] = args.velocity_weight
    torch.set_num_threads(args.threads)
    out = args.out or ROOT / f"models/{args.detector}/{args.detector}_tiny.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    images, poses, boxes = make_dataset(args.cache, args.drives, seed=7)
    print(f"{len(images)} drives; training {args.detector} for {args.minutes} min", flush=True)
    (train_petr if args.detector == "petr" else train_bevformer)(images, poses, boxes, args.minutes, out, args.init)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
