// ops/deform_conv.h — what DeformConv's reference kernel and its fast tactic
// (backends/cpu/deform_conv_tactic.cpp) share: the geometry and the sampling rule.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/graph.h"

namespace nnc {

// A 2-D DeformConv's sizes, from the node and its input/weight dims (already checked by infer).
struct DeformConvGeometry {
  int64_t batch, channels, height, width;         // X
  int64_t maps, channels_per_group, kernel_h, kernel_w;  // W
  int64_t out_h, out_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
  int64_t group, offset_group;
};
DeformConvGeometry deform_conv_geometry(const Node& node, const Dims& x, const Dims& w);

// Bilinear taps at pixel (h, w) of an H x W plane, reading zero outside (torchvision's and
// ONNX's DeformConv rule): top-left, top-right, bottom-left, bottom-right. A non-finite position
// gives NaN weights at pixel 0.
inline void deform_conv_taps(double h, double w, int64_t H, int64_t W, int64_t pixel[4], double weight[4]) {
  if (!std::isfinite(h) || !std::isfinite(w)) {
    for (int t = 0; t < 4; ++t) pixel[t] = 0, weight[t] = std::nan("");
    return;
  }
  const double y0 = std::floor(h), x0 = std::floor(w), dy = h - y0, dx = w - x0;
  const double wt[4] = {(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx};
  for (int t = 0; t < 4; ++t) {
    const double ty = y0 + t / 2, tx = x0 + t % 2;  // compared in double: far offsets cannot overflow
    const bool inside = ty >= 0 && ty < double(H) && tx >= 0 && tx < double(W);
    pixel[t] = inside ? int64_t(ty) * W + int64_t(tx) : 0;
    weight[t] = inside ? wt[t] : 0.0;
  }
}

}  // namespace nnc
