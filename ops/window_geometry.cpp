// ops/window_geometry.cpp — see window_geometry.h.
#include "ops/window_geometry.h"

namespace nnc {
namespace {

std::vector<int64_t> ints_or(const Node& n, std::string_view name, size_t count, int64_t fallback) {
  if (!n.has_attr(name)) return std::vector<int64_t>(count, fallback);
  std::vector<int64_t> v = attr_ints(n, name);
  if (v.empty()) return std::vector<int64_t>(count, fallback);
  return v;
}

}  // namespace

WindowGeometry window_geometry(const Node& n, const std::vector<int64_t>& input, const std::vector<int64_t>& kernel,
                               bool allow_ceil) {
  const size_t rank = input.size();
  WindowGeometry g;
  g.input = input;
  g.kernel = kernel;
  if (kernel.size() != rank) node_error(n, "kernel has {} spatial dims but the input has {}", kernel.size(), rank);
  g.stride = ints_or(n, "strides", rank, 1);
  g.dilation = ints_or(n, "dilations", rank, 1);
  if (g.stride.size() != rank) node_error(n, "strides has {} values for {} spatial dims", g.stride.size(), rank);
  if (g.dilation.size() != rank) node_error(n, "dilations has {} values for {} spatial dims", g.dilation.size(), rank);
  for (size_t i = 0; i < rank; ++i) {
    if (g.stride[i] < 1 || g.stride[i] > (1 << 20)) node_error(n, "strides[{}] = {} must be at least 1", i, g.stride[i]);
    if (g.dilation[i] < 1 || g.dilation[i] > (1 << 20)) node_error(n, "dilations[{}] = {} must be at least 1", i, g.dilation[i]);
    if (kernel[i] < 1 || kernel[i] > (int64_t(1) << 32))
      node_error(n, "kernel size {} on spatial axis {} must be between 1 and 2^32", kernel[i], i);
  }
  const std::string auto_pad = n.has_attr("auto_pad") ? attr_string(n, "auto_pad") : "NOTSET";
  const bool ceil_mode = allow_ceil && n.has_attr("ceil_mode") && attr_int(n, "ceil_mode") != 0;
  g.pad_begin.assign(rank, 0);
  g.pad_end.assign(rank, 0);
  g.output.assign(rank, 0);
  if (auto_pad == "NOTSET") {
    const std::vector<int64_t> pads = ints_or(n, "pads", 2 * rank, 0);
    if (pads.size() != 2 * rank) node_error(n, "pads has {} values; {} spatial dims need {}", pads.size(), rank, 2 * rank);
    for (size_t i = 0; i < rank; ++i) {
      g.pad_begin[i] = pads[i];
      g.pad_end[i] = pads[i + rank];
      if (pads[i] < 0 || pads[i + rank] < 0 || pads[i] > (1 << 20) || pads[i + rank] > (1 << 20))
        node_error(n, "pads must be non-negative, got {} and {} on spatial axis {}", pads[i], pads[i + rank], i);
    }
  } else if (auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    node_error(n, "auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '{}'", auto_pad);
  }
  for (size_t i = 0; i < rank; ++i) {
    const int64_t extent = (kernel[i] - 1) * g.dilation[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      g.output[i] = (input[i] + g.stride[i] - 1) / g.stride[i];
      const int64_t total = std::max<int64_t>(0, (g.output[i] - 1) * g.stride[i] + extent - input[i]);
      g.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pad_end[i] = total - g.pad_begin[i];
      continue;
    }
    const int64_t span = input[i] + g.pad_begin[i] + g.pad_end[i] - extent;
    if (span < 0)
      node_error(n, "the window ({} with dilation {}) is larger than the padded input ({}) on spatial axis {}",
                 kernel[i], g.dilation[i], input[i] + g.pad_begin[i] + g.pad_end[i], i);
    g.output[i] = (ceil_mode ? (span + g.stride[i] - 1) / g.stride[i] : span / g.stride[i]) + 1;
    // ceil_mode may start the last window in the end padding; ONNX drops that window.
    if (ceil_mode && (g.output[i] - 1) * g.stride[i] >= input[i] + g.pad_begin[i]) --g.output[i];
  }
  return g;
}

std::vector<Dim> window_output_dims(const Node& n, const std::vector<Dim>& input, const std::vector<int64_t>& kernel,
                                    bool allow_ceil) {
  std::vector<int64_t> known(input.size(), 1);
  bool all_known = true;
  for (size_t i = 0; i < input.size(); ++i) {
    all_known = all_known && input[i].known();
    if (input[i].known()) known[i] = input[i].value;
  }
  // Validates attributes even when the sizes are symbolic (with a stand-in size that fits).
  if (!all_known) {
    for (size_t i = 0; i < input.size(); ++i)
      if (!input[i].known()) known[i] = 1 << 16;
  }
  const WindowGeometry g = window_geometry(n, known, kernel, allow_ceil);
  std::vector<Dim> out;
  for (size_t i = 0; i < input.size(); ++i) out.push_back(input[i].known() ? Dim(g.output[i]) : Dim());
  return out;
}

Box3 box3(const std::vector<int64_t>& v, int64_t fill) {
  check_internal(v.size() <= 3, "box3: more than three spatial dims");
  std::vector<int64_t> p(3 - v.size(), fill);
  p.insert(p.end(), v.begin(), v.end());
  return {p[0], p[1], p[2]};
}

}  // namespace nnc
