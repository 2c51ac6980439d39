#!/usr/bin/python3
"""mAP, translation and velocity error of nnc's 3D detectors on held-out generated drives,
computed from the boxes `nnc petr` and `nnc bevformer` write (nnc does the inference; this
script only generates the drives and scores the JSON).

usage:
  /usr/bin/python3 tools/reference/eval_detect3d.py [--drives 40] [--nnc build/nnc] [--data /tmp/nnc_detect3d_eval]

Drives come from synthetic_scenes.py with seed 5151 (training used seed 7, the bundled sample
4242), three frames each. Matching as nuScenes does it: per class, predictions best score
first, each takes the nearest unmatched ground-truth box of its class in its frame whose centre
lies within d metres on the ground (d = 0.5, 1, 2, 4); AP is the area under the precision /
recall curve above recall 0.1 and precision 0.1; mAP averages classes and thresholds. ATE
(centre distance) and AVE (velocity error) average the true positives at d = 2 m.
BEVFormer is scored twice: with its temporal state, and with every frame run as a first frame
(--no-history); velocity needs the history.
"""
import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic_scenes as ss  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = [0.5, 1.0, 2.0, 4.0]


def generate(data, drives):
    if (data / f"drive_{drives - 1:03d}" / "frame_02" / "scene.json").exists():
        return
    rig = ss.camera_rig()
    rng = np.random.default_rng(5151)
    for d in range(drives):
        for k, (images, e2w, boxes, ts) in enumerate(ss.sequence(rng, 3, rig, 5151 + d)):
            ss.write_scene(data / f"drive_{d:03d}" / f"frame_{k:02d}", images, e2w, boxes, ts, rig)


def run_nnc(nnc, command, drive, out, extra=()):
    subprocess.run([str(nnc), command, str(drive), "--boxes", str(out), "--score-threshold", "0.05", *extra],
                   check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())["frames"]


def average_precision(matched, scores, gt_count):
    if gt_count == 0 or not len(scores):
        return 0.0
    order = np.argsort(-np.asarray(scores), kind="stable")
    tp = np.asarray(matched, float)[order]
    cum_tp = np.cumsum(tp)
    precision = cum_tp / np.arange(1, len(tp) + 1)
    recall = cum_tp / gt_count
    envelope = np.maximum.accumulate(precision[::-1])[::-1]  # best precision at this recall or more
    grid = np.linspace(0, 1, 101)
    interp = np.interp(grid, recall, envelope, right=0)
    return float(np.mean(np.clip(interp[11:] - 0.1, 0, None)) / 0.9)


def score(frames_pred, frames_gt, classes):
    """frames_pred / frames_gt: lists of box lists (dicts with class, center, velocity[, score])."""
    aps, tp_dist, tp_vel = {}, [], []
    for cls in classes:
        for d in THRESHOLDS:
            preds = [(f, b) for f, boxes in enumerate(frames_pred) for b in boxes if b["class"] == cls]
            preds.sort(key=lambda fb: -fb[1]["score"])
            gt_count = sum(1 for boxes in frames_gt for b in boxes if b["class"] == cls)
            taken = [set() for _ in frames_gt]
            matched = []
            for f, p in preds:
                best, best_dist = None, d
                for j, g in enumerate(frames_gt[f]):
                    if g["class"] != cls or j in taken[f]:
                        continue
                    dist = float(np.hypot(p["center"][0] - g["center"][0], p["center"][1] - g["center"][1]))
                    if dist <= best_dist:
                        best, best_dist = j, dist
                matched.append(best is not None)
                if best is not None:
                    taken[f].add(best)
                    if d == 2.0:
                        g = frames_gt[f][best]
                        tp_dist.append(best_dist)
                        tp_vel.append(float(np.hypot(p["velocity"][0] - g["velocity"][0], p["velocity"][1] - g["velocity"][1])))
            aps[(cls, d)] = average_precision(matched, [p["score"] for _, p in preds], gt_count)
    per_class = {c: float(np.mean([aps[(c, d)] for d in THRESHOLDS])) for c in classes}
    return {"mAP": float(np.mean(list(aps.values()))), "per_class": per_class,
            "ATE": float(np.mean(tp_dist)) if tp_dist else float("nan"),
            "AVE": float(np.mean(tp_vel)) if tp_vel else float("nan"), "true_positives_2m": len(tp_dist)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--drives", type=int, default=40)
    ap.add_argument("--nnc", type=Path, default=ROOT / "build/nnc")
    ap.add_argument("--data", type=Path, default=Path("/tmp/nnc_detect3d_eval"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    generate(args.data, args.drives)
    drives = sorted(p for p in args.data.iterdir() if p.name.startswith("drive_"))[: args.drives]
    gt, later = [], []  # later: frames that have a previous frame (BEVFormer's history)
    for drive in drives:
        for k, frame in enumerate(sorted(drive.iterdir())):
            gt.append(json.loads((frame / "scene.json").read_text())["boxes"])
            later.append(k > 0)
    results = {}
    runs = [("petr", "petr", ()), ("bevformer", "bevformer", ()), ("bevformer (no history)", "bevformer", ("--no-history",))]
    for label, command, extra in runs:
        preds = []
        for drive in drives:
            preds += [f["boxes"] for f in run_nnc(args.nnc, command, drive, args.data / "boxes.json", extra)]
        results[label] = score(preds, gt, ss.CLASSES)
        results[label]["later_frames"] = score([p for p, k in zip(preds, later) if k], [g for g, k in zip(gt, later) if k],
                                               ss.CLASSES)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    print(f"{len(drives)} held-out drives, {len(gt)} frames, {sum(len(g) for g in gt)} ground-truth boxes")
    print(f"{'model':<24} {'mAP':>6} " + " ".join(f"{'AP ' + c:>14}" for c in ss.CLASSES) +
          f" {'ATE m':>7} {'AVE m/s':>8} {'mAP*':>6} {'AVE* m/s':>9}")
    for label, r in results.items():
        print(f"{label:<24} {r['mAP']:6.3f} " + " ".join(f"{r['per_class'][c]:14.3f}" for c in ss.CLASSES) +
              f" {r['ATE']:7.2f} {r['AVE']:8.2f} {r['later_frames']['mAP']:6.3f} {r['later_frames']['AVE']:9.2f}")
    print("* over the frames that have a previous frame (2 of every 3), where BEVFormer has a history")


if __name__ == "__main__":
    main()
