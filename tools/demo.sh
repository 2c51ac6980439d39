#!/usr/bin/env bash
# Builds nnc, then runs the bundled U2NETP salient-object model on a bundled photo and writes
# the predicted mask as a PNG. (Until trained weights land, the model has seeded random weights:
# the mask shows the pipeline working, not a meaningful segmentation.)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh

model=tests/data/golden/u2netp/model.onnx
image=models/samples/chelsea.png
out_dir=out
mkdir -p "$out_dir"
echo
echo "running $model on $image"
# The timing cache makes every run after the first skip tuning (see README, Fast CPU backend).
build/nnc run "$model" --input "input=$image" --timing-cache "$out_dir/u2netp.timing-cache" \
  --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 \
  --save-png "d0=$out_dir/chelsea_mask.png"
echo "mask written to $(pwd)/$out_dir/chelsea_mask.png"
