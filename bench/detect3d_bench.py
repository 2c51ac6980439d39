#!/usr/bin/python3
"""The published 3D detectors end to end: nnc against ONNX Runtime, in one run.

usage: /usr/bin/python3 bench/detect3d_bench.py [--threads N] [--rounds R] [--iters N] [MODEL ...]

MODEL is bevformer_tiny_full (BEVFormer-tiny as published: R50, 800x480, BEV 50x50, 3 + 6
layers) or petr_r50 (PETR, R50 with DCNv2 in stages 3-4, CPFPN, 800x320); default both. Each is
exported with seeded weights by tools/reference/detect3d_full.py into build/detect3d_full/ on
first use (which also checks nnc against PyTorch). nnc's outputs are checked against ORT's on the
same inputs first (relative L2 under 1e-4); then rounds interleave nnc bench and ORT (the same
inputs, the same threads) and the table shows the median over rounds and the ratio nnc / ORT.
"""
import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from run import NNC, PYTHON, cpu_model, ensure_ort, rel_l2, run_json  # noqa: E402

OUT = ROOT / "build/detect3d_full"
INPUTS = {"bevformer_tiny_full": ["img", "can_bus", "prev_bev", "hist_ref", "ref_cam", "bev_mask"],
          "petr_r50": ["img", "coords"]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=list(INPUTS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iters", type=int, default=5)
    args = parser.parse_args()
    ort_env = ensure_ort()
    rows = []
    for name in args.models:
        d = OUT / name
        if not (d / "model.onnx").exists():
            print(f"{name}: exporting with tools/reference/detect3d_full.py (first use) ...", flush=True)
            subprocess.run([PYTHON, str(ROOT / "tools/reference/detect3d_full.py"), "--only", name.split("_")[0]],
                           check=True)
        model = str(d / "model.onnx")
        feeds = [a for k in INPUTS[name] for a in ("--input", f"{k}={d / (k + '.npy')}")]
        cache = d / f"timing-cache-t{args.threads}"
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([str(NNC), "run", model, *feeds, "--threads", str(args.threads), "--timing-cache", str(cache),
                            "--save-outputs", f"{tmp}/nnc"], check=True, stdout=subprocess.DEVNULL)
            run_json(["node", str(ROOT / "bench/ort_bench.js"), model, "--threads", str(args.threads), "--iters", "1",
                      "--warmup", "0", *feeds, "--save-outputs", f"{tmp}/ort"], ort_env)
            worst = max(rel_l2(np.load(f), np.load(Path(tmp) / "ort" / f.name)) for f in (Path(tmp) / "nnc").glob("*.npy"))
        if worst > 1e-4:
            sys.exit(f"bench/detect3d_bench.py: {name}: nnc's outputs differ from ORT's by {worst:.2e} relative L2")
        medians = {"nnc": [], "ort": []}
        for r in range(args.rounds):
            print(f"{name}: round {r + 1}/{args.rounds}", flush=True)
            common = ["--threads", str(args.threads), "--iters", str(args.iters), "--warmup", "1", *feeds]
            medians["nnc"].append(run_json([str(NNC), "bench", model, "--json", "--timing-cache", str(cache)] + common)
                                  ["median_ms"])
            medians["ort"].append(run_json(["node", str(ROOT / "bench/ort_bench.js"), model] + common, ort_env)["median_ms"])
        rows.append((name, {k: float(np.median(v)) for k, v in medians.items()}, worst))

    print(f"\n{date.today()}  {cpu_model()}  {args.threads} threads, "
          f"{args.rounds} rounds x {args.iters} iterations (median of round medians, ms)")
    print(f"{'model':<22}{'nnc':>10}{'ORT':>10}{'nnc/ORT':>10}{'nnc vs ORT rel L2':>20}")
    for name, m, worst in rows:
        print(f"{name:<22}{m['nnc']:>10.1f}{m['ort']:>10.1f}{m['nnc'] / m['ort']:>10.2f}{worst:>20.2e}")


if __name__ == "__main__":
    main()
