#!/usr/bin/python3
"""Times PyTorch 1.13 eager (Debian's, CPU) on one of tools/reference's models; one JSON line.

usage: /usr/bin/python3 bench/torch_bench.py NAME [--threads N] [--iters N] [--warmup N]
NAME is a golden of tools/reference/export_goldens.py (u2netp, transformer, ...) or u2net.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "reference"))
import export_goldens  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    maker = export_goldens.GOLDENS.get(args.name) or export_goldens.LOCAL_ONLY[args.name]
    model, example, *_ = maker()
    model.eval()
    times = []
    with torch.no_grad():
        for _ in range(args.warmup):
            model(example)
        for _ in range(args.iters):
            start = time.perf_counter()
            model(example)
            times.append((time.perf_counter() - start) * 1000)
    ordered = sorted(times)
    print(json.dumps({"runtime": "pytorch", "version": torch.__version__, "model": args.name, "threads": args.threads,
                      "median_ms": ordered[len(ordered) // 2], "min_ms": ordered[0],
                      "mean_ms": sum(times) / len(times), "times_ms": times}))


if __name__ == "__main__":
    main()
