#!/usr/bin/python3
"""nnc against ONNX Runtime and PyTorch eager, in one run, on the same models, inputs and threads.

usage: /usr/bin/python3 bench/run.py [--threads N] [--rounds R] [--iters N] [--int8] [MODEL ...]

MODEL is u2netp, transformer (bundled goldens), u2net or u2net_1024 (exported to build/reference/
by tools/reference/export_goldens.py on first use; 176 MB each). Default: all four; u2net_1024
runs a third of the iterations.
Rounds interleave the three runtimes (nnc, ORT, PyTorch, nnc, ORT, ...) so that the machine's
noise hits them alike; the table shows the median over rounds of each round's median and the
ratio nnc / ORT. Before timing, nnc's outputs are compared with ORT's on the same input (relative
L2 must be under 1e-4). Needs build/nnc (tools/build.sh) and node; installs onnxruntime-node
with npm (--ignore-scripts) into build/bench/ on first use.
--int8 also quantizes the U2Net models (nnc quantize, calibrated on tests/data/calib) and times
the INT8 plan in the same rounds; a second table gives INT8 against nnc's and ORT's fp32. (The
benchmark models carry random weights, so INT8 accuracy is measured elsewhere: nnc quantize
--report --eval on the trained U2NETP.)
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NNC = ROOT / "build/nnc"
ORT_DIR = ROOT / "build/bench"
PYTHON = "/usr/bin/python3"


def model_dir(name):
    if name.startswith("u2net") and name != "u2netp":
        d = ROOT / "build/reference" / name
        if not (d / "model.onnx").exists():
            print(f"exporting {name} with tools/reference (first use) ...", flush=True)
            subprocess.run([PYTHON, str(ROOT / "tools/reference/export_goldens.py"), name], check=True,
                           stdout=subprocess.DEVNULL)
        return d
    return ROOT / "tests/data/golden" / name


def ensure_ort():
    if not (ORT_DIR / "node_modules/onnxruntime-node").exists():
        ORT_DIR.mkdir(parents=True, exist_ok=True)
        print("installing onnxruntime-node with npm --ignore-scripts (first use) ...", flush=True)
        subprocess.run(["npm", "install", "--ignore-scripts", "--prefix", str(ORT_DIR), "onnxruntime-node"], check=True,
                       stdout=subprocess.DEVNULL)
    return {**os.environ, "NODE_PATH": str(ORT_DIR / "node_modules")}


def run_json(command, env=None):
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def rel_l2(a, b):
    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=["u2netp", "transformer", "u2net", "u2net_1024"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--int8", action="store_true")
    args = parser.parse_args()
    if not NNC.exists():
        sys.exit("bench/run.py: build/nnc is missing; run tools/build.sh first")
    ort_env = ensure_ort()
    peak = None
    if (ROOT / "build/fma_peak").exists():
        peak = run_json([str(ROOT / "build/fma_peak"), str(args.threads)])
        print(f"fp32 FMA peak: {peak['gflops']:.1f} GFLOP/s with {args.threads} threads "
              f"({peak['gflops_per_thread']:.1f} per thread, {peak['isa']})", flush=True)
    rows, conv_lines, int8_rows = [], [], []
    for name in args.models:
        d = model_dir(name)
        model, example = str(d / "model.onnx"), str(d / "input_0.npy")
        # Tuned once (here), reused by every round: rounds time inference, not tuning.
        cache = ORT_DIR / f"{name}-t{args.threads}.timing-cache"
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([str(NNC), "run", model, "--input", f"input={example}", "--threads", str(args.threads),
                            "--timing-cache", str(cache), "--save-outputs", f"{tmp}/nnc"], check=True,
                           stdout=subprocess.DEVNULL)
            run_json(["node", str(ROOT / "bench/ort_bench.js"), model, "--threads", str(args.threads), "--iters", "1",
                      "--warmup", "0", "--input", f"input={example}", "--save-outputs", f"{tmp}/ort"], ort_env)
            worst = max(rel_l2(np.load(f), np.load(Path(tmp) / "ort" / f.name)) for f in (Path(tmp) / "nnc").glob("*.npy"))
            plan = None
            if args.int8 and name.startswith("u2net"):
                plan = ORT_DIR / f"{name}-int8-t{args.threads}.nncplan"
                print(f"{name}: quantizing (nnc quantize, calibrated on tests/data/calib) ...", flush=True)
                subprocess.run([str(NNC), "quantize", model, "--calib", str(ROOT / "tests/data/calib"), "--mean",
                                "0.485,0.456,0.406", "--std", "0.229,0.224,0.225", "-o", str(plan), "--threads",
                                str(args.threads), "--timing-cache", str(cache)], check=True, stdout=subprocess.DEVNULL)

        if worst > 1e-4:
            sys.exit(f"bench/run.py: {name}: nnc's outputs differ from ORT's by {worst:.2e} relative L2 (limit 1e-4)")
        medians = {"nnc": [], "ort": [], "torch": [], "int8": []}
        iters = max(2, args.iters // 3) if name == "u2net_1024" else args.iters
        for r in range(args.rounds):
            print(f"{name}: round {r + 1}/{args.rounds}", flush=True)
            common = ["--threads", str(args.threads), "--iters", str(iters)]
            result = run_json([str(NNC), "bench", model, "--json", "--profile", "--input", f"input={example}",
                               "--warmup", "1", "--timing-cache", str(cache)] + common)
            medians["nnc"].append(result["median_ms"])
            if r == 0:  # the largest convolutions' effective throughput (direct-conv FLOPs / time)
                convs = sorted((p for p in result["profile"] if p["op"] == "Conv"), key=lambda p: -p["gflop"])[:3]
                for p in convs:
                    rate = p["gflop"] / p["ms"] * 1000
                    share = f", {100 * rate / peak['gflops']:.0f}% of peak" if peak else ""
                    conv_lines.append(f"  {name:<12} {p['node']:<40} {p['gflop']:6.2f} GFLOP {p['ms']:8.2f} ms "
                                      f"{rate:7.1f} GFLOP/s{share} ({p['tactic']})")
            if plan:
                medians["int8"].append(run_json([str(NNC), "bench", str(plan), "--json", "--input", f"input={example}",
                                                 "--warmup", "1"] + common)["median_ms"])
            medians["ort"].append(run_json(["node", str(ROOT / "bench/ort_bench.js"), model, "--input",
                                            f"input={example}", "--warmup", "1"] + common, ort_env)["median_ms"])
            medians["torch"].append(run_json([PYTHON, str(ROOT / "bench/torch_bench.py"), name, "--warmup", "1"] + common)
                                    ["median_ms"])
        rows.append((name, {k: float(np.median(v)) for k, v in medians.items() if v}, worst))
        if plan:
            int8_rows.append((name, rows[-1][1]))

    print(f"\n{date.today()}  {cpu_model()}  {args.threads} threads, "
          f"{args.rounds} rounds x {args.iters} iterations (median of round medians, ms)")
    print(f"{'model':<14}{'nnc':>10}{'ORT':>10}{'PyTorch':>10}{'nnc/ORT':>10}{'nnc vs ORT rel L2':>20}")
    for name, m, worst in rows:
        print(f"{name:<14}{m['nnc']:>10.1f}{m['ort']:>10.1f}{m['torch']:>10.1f}{m['nnc'] / m['ort']:>10.2f}{worst:>20.1e}")
    if int8_rows:
        print(f"\n{'model':<14}{'nnc int8':>10}{'nnc fp32':>10}{'ORT fp32':>10}{'int8/fp32':>11}{'int8/ORT':>10}")
        for name, m in int8_rows:
            print(f"{name:<14}{m['int8']:>10.1f}{m['nnc']:>10.1f}{m['ort']:>10.1f}{m['int8'] / m['nnc']:>11.2f}"
                  f"{m['int8'] / m['ort']:>10.2f}")
    if conv_lines:
        print("\nnnc's largest convolutions (first round):")
        for line in conv_lines:
            print(line)


if __name__ == "__main__":
    main()
