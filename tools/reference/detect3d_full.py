#!/usr/bin/python3
"""The published architectures, seeded random weights, for correctness and speed (not CI):
PETR with ResNet-50 (DCNv2 in stages 3-4) and CPFPN at 800x320 per camera, and BEVFormer-tiny
as published (R50 C5, 800x480, BEV 50x50, 3 encoder and 6 decoder layers, 900 queries).

usage:
  /usr/bin/python3 tools/reference/detect3d_full.py [--out build/detect3d_full] [--nnc build/nnc] [--only petr|bevformer]

Exports each at opset 16 with host inputs from the synthetic six-camera rig (MODELS.md section 6)
at its resolution, PyTorch's outputs beside it, then runs `nnc run` (-O2, tuned) on the same
inputs and prints relative L2 and max-abs error per output. bench/run.py times them.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_scenes as ss  # noqa: E402
import petr as petr_ref  # noqa: E402
import bevformer as bev_ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def calibrate_batchnorm(model, images):
    """BatchNorm statistics of real activations (a random batch), then eval: fifty layers of
    random weights neither vanish nor explode."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
                m.momentum = None
        model.train()
        model.backbone(images)
        model.eval()


def rig_lidar2img(width, height):
    return [ss.lidar2img(K, s2e) for _, K, s2e in ss.camera_rig(width, height)]


def petr_case(seed):
    cfg = petr_ref.R50_P4
    torch.manual_seed(seed)
    model = petr_ref.PETRTiny(cfg)
    g = torch.Generator().manual_seed(seed + 1)
    img = torch.randn(1, cfg.cams, 3, cfg.img_h, cfg.img_w, generator=g)
    calibrate_batchnorm(model, img[0, :2])
    coords = ss.petr_coords(rig_lidar2img(cfg.img_w, cfg.img_h), cfg.img_h, cfg.img_w, cfg.feat_h, cfg.feat_w, cfg.depths)
    inputs = {"img": img, "coords": torch.tensor(coords)}
    return model, inputs, ["all_cls_scores", "all_bbox_preds"]


def bevformer_case(seed):
    cfg = bev_ref.FULL_TINY
    torch.manual_seed(seed)
    model = bev_ref.BEVFormerTiny(cfg)
    g = torch.Generator().manual_seed(seed + 1)
    img = torch.randn(1, cfg.cams, 3, cfg.img_h, cfg.img_w, generator=g)
    calibrate_batchnorm(model, img[0, :2])
    pc = np.array([-51.2, -51.2, -5.0, 51.2, 51.2, 3.0])
    ref_cam, mask = ss.bev_ref_cam(rig_lidar2img(cfg.img_w, cfg.img_h), cfg.bev, cfg.bev, cfg.img_h, cfg.img_w, pc)
    prev = torch.randn(cfg.bev * cfg.bev, cfg.d_model, generator=g).numpy()
    shift, dyaw = np.array([1.2, -0.1, 0.0]), 0.05
    aligned, hist_ref = ss.align_prev_bev(prev, cfg.bev, cfg.bev, shift, dyaw, pc)
    inputs = {"img": img, "can_bus": torch.tensor(ss.can_bus(shift, dyaw))[None], "prev_bev": torch.tensor(aligned)[None],
              "hist_ref": torch.tensor(hist_ref)[None], "ref_cam": torch.tensor(ref_cam), "bev_mask": torch.tensor(mask)}
    return model, inputs, ["bev_embed", "all_cls_scores", "all_bbox_preds"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "build/detect3d_full")
    ap.add_argument("--nnc", type=Path, default=ROOT / "build/nnc")
    ap.add_argument("--only", choices=["petr", "bevformer"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cases = {"petr_r50": petr_case, "bevformer_tiny_full": bevformer_case}
    for name, make in cases.items():
        if args.only and not name.startswith(args.only):
            continue
        out = args.out / name
        out.mkdir(parents=True, exist_ok=True)
        model, inputs, output_names = make(seed=11)
        params = sum(p.numel() for p in model.parameters())
        with torch.no_grad():
            outputs = model(*inputs.values())
        torch.onnx.export(model, tuple(inputs.values()), str(out / "model.onnx"), opset_version=16,
                          input_names=list(inputs), output_names=output_names)
        for k, t in inputs.items():
            np.save(out / f"{k}.npy", t.numpy().astype(np.float32))
        feeds = [a for k in inputs for a in ("--input", f"{k}={out / (k + '.npy')}")]
        got_dir = out / "nnc_outputs"
        subprocess.run([str(args.nnc), "run", str(out / "model.onnx"), *feeds, "--save-outputs", str(got_dir),
                        "--threads", str(args.threads), "--timing-cache", str(out / "timing-cache")],
                       check=True, stdout=subprocess.DEVNULL)
        print(f"{name}: {params / 1e6:.2f} M params")
        for oname, ref in zip(output_names, outputs):
            ref = ref.numpy().astype(np.float64)
            got = np.load(got_dir / f"{oname}.npy").astype(np.float64)
            rel = np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30)
            print(f"  {oname:<16} {list(ref.shape)}  rel L2 {rel:.3g}  max abs {np.abs(got - ref).max():.3g}")


if __name__ == "__main__":
    main()
