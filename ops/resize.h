// ops/resize.h — where Resize reads from: per axis and output coordinate, the input indices
// and weights of its filter taps (ops/resize.cpp explains the modes). Shared by the reference
// kernel and the fast tactics, so the two cannot disagree on a coordinate.
#pragma once

#include <vector>

#include "ops/op_def.h"

namespace nnc {

struct ResizeTaps {
  std::vector<int64_t> index;    // flat, `width` per output coordinate, clamped into the input
  std::vector<double> weight;    // same layout
  std::vector<uint8_t> outside;  // tf_crop_and_resize: the coordinate maps outside the input
  int64_t width = 1;
  bool identity = false;         // an axis Resize does not touch
};

// One ResizeTaps per axis of an input with dims `in`; roi, scales and sizes as the node's inputs
// 1..3 (nullptr when absent). Throws naming the node for inconsistent inputs.
std::vector<ResizeTaps> resize_taps(const Node& n, const Dims& in, const Tensor* roi, const Tensor* scales,
                                    const Tensor* sizes);

// Whether the taps of an axis of `size` only copy it: every output i reads input i with weight 1
// (a scale-1 axis, or one Resize does not touch). Kernels that resize two axes check the others.
bool copies_axis(const ResizeTaps& taps, int64_t size);

}  // namespace nnc
