// ops/ms_deform_attn.h — what MSDeformAttn's reference kernel, its fast tactic
// (backends/cpu/ms_deform_attn_tactic.cpp) and the fusion pass (passes/fuse_deform_attn.cpp)
// share: the level table and the tap rule.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/graph.h"

namespace nnc {

// The L feature maps packed in MSDeformAttn's value: level l is height[l] x width[l] pixels
// starting at row start[l] of value's S axis.
struct DeformAttnLevels {
  std::vector<int64_t> height, width, start;
  int64_t count() const { return int64_t(height.size()); }
};

// Reads spatial_shapes ([L, 2] of (H, W)) and, when given, level_start_index ([L]); checks that
// every map has at least one pixel, that the starts are the running sums of H·W and that the
// maps fill exactly `value_rows` rows (S). Throws BadInput naming the node otherwise.
DeformAttnLevels deform_attn_levels(const Node& node, const Tensor& spatial_shapes, const Tensor* level_start_index,
                                    int64_t value_rows);

// The bilinear taps of a normalised location (x, y) in [0, 1] on an H x W map, as
// grid_sample(align_corners=False, padding_mode=zeros) reads it: pixel (x·W − 0.5, y·H − 0.5);
// a tap outside the map gets weight 0 and pixel 0. Taps: top-left, top-right, bottom-left,
// bottom-right. A non-finite location gives NaN weights (as GridSample's kernels do).
inline void deform_attn_taps(double x, double y, int64_t H, int64_t W, int64_t pixel[4], double weight[4]) {
  const double px = x * double(W) - 0.5, py = y * double(H) - 0.5;
  if (!std::isfinite(px) || !std::isfinite(py)) {
    for (int t = 0; t < 4; ++t) pixel[t] = 0, weight[t] = std::nan("");
    return;
  }
  const double x0 = std::floor(px), y0 = std::floor(py), wx = px - x0, wy = py - y0;
  const double w[4] = {(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx};
  for (int t = 0; t < 4; ++t) {
    // Far-away locations: compare in double before converting, so no int64 overflow.
    const double ty = y0 + t / 2, tx = x0 + t % 2;
    const bool inside = ty >= 0 && ty < double(H) && tx >= 0 && tx < double(W);
    pixel[t] = inside ? int64_t(ty) * W + int64_t(tx) : 0;
    weight[t] = inside ? w[t] : 0.0;
  }
}

}  // namespace nnc
