#!/usr/bin/env bash
# Installs what is missing, builds nnc, then runs the bundled pipelines on bundled inputs: U2NETP
# salient-object detection on chelsea.png (mask and cut-out), deblurring by stochastic refinement
# on clock_motion.png (a real camera-shake photo), and BEVFormer 3D detection over a generated
# three-frame, six-camera drive (boxes as JSON and a top-down picture). The models were trained by
# tools/reference/ on generated data only (see README): the pipelines and numbers are real, the
# masks and sharpening are those of small models that never saw a real photo.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh

out_dir=out
mkdir -p "$out_dir"
# The timing cache makes every run after the first skip tuning (see README, Fast CPU backend).
cache="$out_dir/demo.timing-cache"

echo
echo "== nnc u2net models/samples/chelsea.png"
build/nnc u2net models/samples/chelsea.png --mask "$out_dir/chelsea_mask.png" \
  --cutout "$out_dir/chelsea_cutout.png" --timing-cache "$cache"

echo
echo "== nnc deblur models/samples/clock_motion.png"
build/nnc deblur models/samples/clock_motion.png -o "$out_dir/clock_deblurred.png" --seed 1 \
  --timing-cache "$cache"

echo
echo "== nnc bevformer models/samples/scenes/drive (three frames, six cameras each)"
build/nnc bevformer models/samples/scenes/drive --boxes "$out_dir/drive_boxes.json" \
  --bev "$out_dir/drive_bev.png" --timing-cache "$cache"

echo
echo "results in $(pwd)/$out_dir/: chelsea_mask.png, chelsea_cutout.png, clock_deblurred.png, drive_boxes.json, drive_bev.png"
