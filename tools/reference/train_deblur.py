#!/usr/bin/python3
"""Trains the two deblurring networks on synthetic pairs and exports the ONNX files nnc bundles.

usage: /usr/bin/python3 tools/reference/train_deblur.py [--minutes-predictor 15] [--minutes-denoiser 25]
       /usr/bin/python3 tools/reference/train_deblur.py --export-only   (from the saved checkpoints)

G (models.DeblurPredictor) first: L1 between G(y) and the sharp x. Then, with G frozen,
F (models.ResidualDenoiser) learns the residual r = x - G(y): log-SNR drawn uniformly from
[TRAIN_LOG_SNR_MIN, TRAIN_LOG_SNR_MAX], z = sqrt(g) r + sqrt(1 - g) eps with g = sigmoid(log-SNR),
MSE between F's preconditioned residual estimate and r, weighted as in EDM (see
models.ResidualDenoiser; its exported graph returns the implied eps). Two earlier runs, one
predicting eps and one predicting r without preconditioning, learned worse than predicting
zero: the residual's pixels (std about 0.02) are tiny next to z's. `--denoiser-only` retrains F
on the saved G. 64x64 crops (synthetic_blur.py), batch 16, Adam 2e-4 / 1e-4,
fresh pairs every step; budgets are wall-clock minutes.

Exports (opset 13, H and W free; any multiple of 4):
  models/deblur/predictor.onnx   blurry [1,3,H,W] in [0,1]            -> sharp [1,3,H,W]
  models/deblur/denoiser.onnx    residual_t [1,3,H,W], blurry [1,3,H,W], log_snr [1] -> epsilon [1,3,H,W]
and tests/data/golden/deblur/: a held-out blurry crop, PyTorch's G output, one F step, and the
full G+F chain for fixed seeds (deblur_sampler.py, the same counter-based noise nnc draws).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deblur_sampler  # noqa: E402
import models  # noqa: E402
import synthetic_blur  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CROP = 64
BATCH = 16


def train_predictor(minutes, photos):
    torch.manual_seed(100)
    model = models.DeblurPredictor()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    start, step, history = time.time(), 0, []
    while time.time() - start < minutes * 60:
        blurry, sharp = synthetic_blur.batch(range(step * BATCH, (step + 1) * BATCH), CROP, photos)
        loss = F.l1_loss(model(blurry), sharp)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(float(loss))
        step += 1
        if step % 50 == 0:
            print(f"G step {step} ({time.time() - start:.0f} s): L1 {np.mean(history[-50:]):.4f}", flush=True)
    return model.eval(), {"steps": step, "final_l1": round(float(np.mean(history[-50:])), 4)}


def train_denoiser(minutes, photos, predictor):
    torch.manual_seed(200)
    model = models.ResidualDenoiser()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    start, step, history = time.time(), 0, []
    lo, hi = deblur_sampler.TRAIN_LOG_SNR_MIN, deblur_sampler.TRAIN_LOG_SNR_MAX
    while time.time() - start < minutes * 60:
        blurry, sharp = synthetic_blur.batch(range(10**7 + step * BATCH, 10**7 + (step + 1) * BATCH), CROP, photos)
        with torch.no_grad():
            residual = sharp - predictor(blurry)
        log_snr = lo + (hi - lo) * torch.rand(BATCH)
        g = torch.sigmoid(log_snr).view(-1, 1, 1, 1)
        eps = torch.randn_like(residual)
        z = g.sqrt() * residual + (1 - g).sqrt() * eps
        # EDM's weighting: the error of the network's own (unit-variance) output.
        r_hat, c_out = model.predict_residual(z, blurry, log_snr)
        loss = (((r_hat - residual) / c_out) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(float(loss))
        step += 1
        if step % 50 == 0:
            print(f"F step {step} ({time.time() - start:.0f} s): weighted residual MSE {np.mean(history[-50:]):.4f}", flush=True)
    return model.eval(), {"steps": step, "final_weighted_mse": round(float(np.mean(history[-50:])), 4)}


def export(predictor, denoiser, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    y = torch.rand(1, 3, 64, 64)
    spatial = {2: "height", 3: "width"}
    with torch.no_grad():
        torch.onnx.export(predictor, (y,), str(out_dir / "predictor.onnx"), opset_version=13,
                          input_names=["blurry"], output_names=["sharp"],
                          dynamic_axes={"blurry": spatial, "sharp": spatial})
        torch.onnx.export(denoiser, (y, y, torch.tensor([0.5])), str(out_dir / "denoiser.onnx"), opset_version=13,
                          input_names=["residual_t", "blurry", "log_snr"], output_names=["epsilon"],
                          dynamic_axes={"residual_t": spatial, "blurry": spatial, "epsilon": spatial})
    for name in ("predictor.onnx", "denoiser.onnx"):
        onnx.checker.check_model(onnx.load(str(out_dir / name)), full_check=True)


def write_golden(predictor, denoiser):
    """PyTorch's outputs on a held-out blurry crop (48x64: H != W catches transposed dims)."""
    golden = ROOT / "tests/data/golden/deblur"
    golden.mkdir(parents=True, exist_ok=True)
    for old in golden.glob("*.npy"):
        old.unlink()
    photos = synthetic_blur.load_photos(synthetic_blur.HELD_OUT_PHOTOS)
    g = torch.Generator().manual_seed(4242)
    sharp = synthetic_blur.sharp_crop(g, photos, 64)[:, :48, :]
    blurry = synthetic_blur.degrade(sharp, g)[None]
    np.save(golden / "blurry.npy", blurry.numpy())
    with torch.no_grad():
        np.save(golden / "predictor.npy", predictor(blurry).numpy())
        z = torch.from_numpy(deblur_sampler.counter_normal(11, 0, blurry.numel()).reshape(blurry.shape))
        np.save(golden / "denoiser_z.npy", z.numpy())
        np.save(golden / "denoiser_log_snr_1.5.npy", denoiser(z, blurry, torch.tensor([1.5])).numpy())
        for steps, eta, seed in ((10, 0.0, 7), (10, 1.0, 7), (25, 0.5, 3)):
            out = deblur_sampler.deblur(predictor, denoiser, blurry, steps, eta, seed)
            np.save(golden / f"chain_steps{steps}_eta{eta:g}_seed{seed}.npy", out.numpy())
    print(f"golden written to {golden}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes-predictor", type=float, default=15.0)
    parser.add_argument("--minutes-denoiser", type=float, default=25.0)
    parser.add_argument("--out", default=str(ROOT / "models/deblur"))
    parser.add_argument("--checkpoint", default=str(ROOT / "build/reference/deblur_trained.pt"))
    parser.add_argument("--export-only", action="store_true")
    parser.add_argument("--denoiser-only", action="store_true", help="keep the checkpoint's G, train F again")
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    out_dir = Path(args.out)
    predictor, denoiser = models.DeblurPredictor(), models.ResidualDenoiser()
    if args.export_only:
        state = torch.load(args.checkpoint)
        predictor.load_state_dict(state["predictor"])
        denoiser.load_state_dict(state["denoiser"])
        predictor.eval()
        denoiser.eval()
    else:
        photos = synthetic_blur.load_photos(synthetic_blur.TRAIN_PHOTOS)
        print(f"{len(photos)} training photos")
        if args.denoiser_only:
            predictor.load_state_dict(torch.load(args.checkpoint)["predictor"])
            predictor.eval()
            g_summary = json.loads((out_dir / "training.json").read_text())["predictor"]
        else:
            predictor, g_summary = train_predictor(args.minutes_predictor, photos)
        denoiser, f_summary = train_denoiser(args.minutes_denoiser, photos, predictor)
        Path(args.checkpoint).parent.mkdir(parents=True, exist_ok=True)
        torch.save({"predictor": predictor.state_dict(), "denoiser": denoiser.state_dict()}, args.checkpoint)
        out_dir.mkdir(parents=True, exist_ok=True)
        summary = {"predictor": g_summary, "denoiser": f_summary, "crop": CROP, "batch": BATCH}
        (out_dir / "training.json").write_text(json.dumps(summary, indent=1) + "\n")
        print(summary)
    export(predictor, denoiser, out_dir)
    write_golden(predictor, denoiser)


if __name__ == "__main__":
    main()
