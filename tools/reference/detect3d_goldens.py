#!/usr/bin/python3
"""The bundled sample drive and PyTorch's answers on it for the trained tiny detectors.

usage:
  /usr/bin/python3 tools/reference/detect3d_goldens.py --petr-weights W.pt --bev-weights W.pt

Writes models/samples/scenes/drive/frame_00..02 (a generated drive no model trained on: seed
4242) and tests/data/detect3d/: for PETR on frame_00 the host input `coords` and PyTorch's two
outputs; for BEVFormer over the three frames, each frame's host inputs (can_bus, prev_bev
aligned, hist_ref; ref_cam and bev_mask once, the rig is fixed) and PyTorch's three outputs,
the history carried by PyTorch's own bev_embed. The host tensors are computed here from the
files as written (scene.json's rounded matrices, the PNGs read back), exactly what nnc's C++
reads, so tests/models/detect3d_test.cpp can hold nnc's host code and inference to them.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_scenes as ss  # noqa: E402
import petr as petr_ref  # noqa: E402
import bevformer as bev_ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "models/samples/scenes/drive"
OUT = ROOT / "tests/data/detect3d"


def read_scene(folder):
    """(images uint8 [N,H,W,3], lidar2img list, ego_to_world) from a scene folder on disk."""
    scene = json.loads((folder / "scene.json").read_text())
    images, l2i = [], []
    for cam in scene["cameras"]:
        images.append(np.asarray(Image.open(folder / cam["image"]).convert("RGB")))
        l2i.append(ss.lidar2img(np.array(cam["intrinsics"]), np.array(cam["sensor_to_ego"])))
    return np.stack(images), l2i, np.array(scene["ego_to_world"])


def save(folder, name, array):
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{name}.npy", np.asarray(array, np.float32))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--petr-weights", type=Path, required=True)
    ap.add_argument("--bev-weights", type=Path, required=True)
    args = ap.parse_args()

    rig = ss.camera_rig()
    rng = np.random.default_rng(4242)
    for k, (images, e2w, boxes, ts) in enumerate(ss.sequence(rng, 3, rig, 4242)):
        ss.write_scene(SAMPLE / f"frame_{k:02d}", images, e2w, boxes, ts, rig)
    frames = [read_scene(SAMPLE / f"frame_{k:02d}") for k in range(3)]

    petr = petr_ref.PETRTiny()
    petr.load_state_dict(torch.load(args.petr_weights))
    petr.eval()
    images, l2i, _ = frames[0]
    coords = ss.petr_coords(l2i, ss.IMG_H, ss.IMG_W, petr_ref.FEAT_H, petr_ref.FEAT_W, petr_ref.DEPTHS)
    with torch.no_grad():
        outputs = petr(torch.tensor(ss.normalise_images(images))[None], torch.tensor(coords))
    save(OUT / "petr", "coords", coords)
    for i, t in enumerate(outputs):
        save(OUT / "petr", f"output_{i}", t.numpy())

    bev = bev_ref.BEVFormerTiny()
    bev.load_state_dict(torch.load(args.bev_weights))
    bev.eval()
    n = bev_ref.BEV_H
    ref_cam, mask = ss.bev_ref_cam(frames[0][1], n, n, ss.IMG_H, ss.IMG_W)
    save(OUT / "bevformer", "ref_cam", ref_cam)
    save(OUT / "bevformer", "bev_mask", mask)
    prev_bev, prev_pose = None, None
    for k, (images, l2i, e2w) in enumerate(frames):
        if prev_bev is None:
            shift, dyaw = np.zeros(3), 0.0
            prev = np.zeros((n * n, bev_ref.D_MODEL), np.float32)
        else:
            shift, dyaw, _ = ss.ego_motion(prev_pose, e2w)
            prev = prev_bev
        aligned, hist_ref = ss.align_prev_bev(prev, n, n, shift, dyaw)
        can = ss.can_bus(shift, dyaw)
        feeds = [torch.tensor(ss.normalise_images(images))[None], torch.tensor(can)[None], torch.tensor(aligned)[None],
                 torch.tensor(hist_ref)[None], torch.tensor(ref_cam), torch.tensor(mask)]
        with torch.no_grad():
            outputs = bev(*feeds)
        for name, t in [("can_bus", can[None]), ("prev_bev", aligned[None]), ("hist_ref", hist_ref[None])]:
            save(OUT / "bevformer", f"{name}_{k}", t)
        for i, t in enumerate(outputs):
            save(OUT / "bevformer", f"output_{i}_{k}", t.numpy())
        prev_bev, prev_pose = outputs[0][0].numpy(), e2w
    print(f"wrote {SAMPLE} (3 frames) and {OUT}")


if __name__ == "__main__":
    main()
