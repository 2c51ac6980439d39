// ops/window_geometry.h — where a sliding window (Conv, pooling) lands: output sizes and the
// padding ONNX's auto_pad, pads, strides, dilations and ceil_mode ask for.
//
// Output size per spatial axis (https://onnx.ai/onnx/operators/onnx__Conv.html):
//   NOTSET/explicit pads: out = floor((in + pad_begin + pad_end - ((k-1)·d + 1)) / s) + 1
//   SAME_UPPER/LOWER:     out = ceil(in / s), padding split with the odd pixel at the end
//                         (UPPER) or the beginning (LOWER)
//   VALID:                no padding
//   ceil_mode (pooling):  ceil instead of floor, but a window may not start in the end padding.
#pragma once

#include <vector>

#include "ops/op_def.h"

namespace nnc {

struct WindowGeometry {
  std::vector<int64_t> input, kernel, stride, dilation, pad_begin, pad_end, output;
  int rank() const { return int(input.size()); }
};

// `input` and `kernel` are the spatial sizes. Reads strides, dilations, pads, auto_pad and (when
// `allow_ceil`) ceil_mode from the node; throws naming the node for inconsistent values or an
// output size below 1.
WindowGeometry window_geometry(const Node& n, const std::vector<int64_t>& input, const std::vector<int64_t>& kernel,
                               bool allow_ceil);

// Spatial sizes padded to three dims (d, h, w): 1-D and 2-D windows are 3-D ones with leading
// axes of size `fill` (1 for sizes and strides, 0 for pads), so one loop nest serves all ranks.
struct Box3 {
  int64_t d = 1, h = 1, w = 1;
};
Box3 box3(const std::vector<int64_t>& v, int64_t fill);

// The spatial output dims for shape inference: unknown (Dim()) where the input dim is unknown.
std::vector<Dim> window_output_dims(const Node& n, const std::vector<Dim>& input, const std::vector<int64_t>& kernel,
                                    bool allow_ceil);

}  // namespace nnc
