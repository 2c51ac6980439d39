// ops/resize.cpp — Resize (and, through the importer's alias, Upsample): nearest, linear and
// cubic interpolation over any axes. ONNX opsets 10, 11, 13, 18.
// https://onnx.ai/onnx/operators/onnx__Resize.html
//
// Per resized axis, every output coordinate x is mapped to an input coordinate x' by
// coordinate_transformation_mode (s = scale, L = lengths, roi = [start, end]):
//   half_pixel            (x + ½)/s − ½            pytorch_half_pixel  same, but 0 when L_out = 1
//   half_pixel_symmetric  half_pixel shifted so the output is centred on the input
//   align_corners         x·(L_in − 1)/(L_out − 1) asymmetric          x/s
//   tf_half_pixel_for_nn  (x + ½)/s                tf_crop_and_resize  inside roi; outside the
//                                                  input → extrapolation_value
// and read through a filter: nearest (one tap, nearest_mode rounding), linear (two taps) or
// cubic (four taps, Keys' kernel with cubic_coeff_a). With antialias=1 and s < 1 the filter is
// stretched by 1/s and renormalised (opset 18). Taps beyond the input repeat the edge;
// exclude_outside=1 drops them and renormalises. The taps and weights of every axis are computed
// once per output coordinate, so the element loop is only multiply-adds.
// Opset 10 (and Upsample): inputs (X, scales), asymmetric coordinates, nearest rounds down —
// the upgrade hook rewrites those nodes into this form.
#include "ops/resize.h"

#include <cmath>

namespace nnc {
namespace {

struct Plan {  // what infer and the kernel both need
  Dims out;
  std::vector<double> scale;  // per axis (1 for axes not resized)
};

std::vector<int64_t> resized_axes(const Node& n, int rank) {
  std::vector<int64_t> axes;
  if (n.has_attr("axes")) {
    for (int64_t a : attr_ints(n, "axes")) axes.push_back(normalize_axis(n, a, rank));
  } else {
    for (int a = 0; a < rank; ++a) axes.push_back(a);
  }
  return axes;
}

// Output dims and per-axis scales from the input dims and the scales or sizes input.
Plan plan_of(const Node& n, const Dims& in, const Tensor* scales, const Tensor* sizes) {
  const int rank = int(in.size());
  const std::vector<int64_t> axes = resized_axes(n, rank);
  const bool have_scales = scales && scales->numel() > 0, have_sizes = sizes && sizes->numel() > 0;
  if (have_scales == have_sizes) node_error(n, "exactly one of scales and sizes must be given");
  Plan p{in, std::vector<double>(size_t(rank), 1.0)};
  if (have_scales) {
    if (scales->numel() != int64_t(axes.size()))
      node_error(n, "scales has {} values but {} axes are resized", scales->numel(), axes.size());
    for (size_t i = 0; i < axes.size(); ++i) {
      const double s = scales->get_double(int64_t(i));
      if (!(s > 0) || s > 1e6) node_error(n, "scales[{}] = {} must be positive", i, s);
      p.scale[size_t(axes[i])] = s;
      p.out[size_t(axes[i])] = int64_t(std::floor(double(in[size_t(axes[i])]) * s));
    }
    return p;
  }
  if (sizes->numel() != int64_t(axes.size()))
    node_error(n, "sizes has {} values but {} axes are resized", sizes->numel(), axes.size());
  const std::string policy = attr_string(n, "keep_aspect_ratio_policy");
  if (policy != "stretch" && policy != "not_larger" && policy != "not_smaller")
    node_error(n, "keep_aspect_ratio_policy must be stretch, not_larger or not_smaller, got '{}'", policy);
  double common = policy == "not_larger" ? 1e300 : 0.0;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t size = sizes->get_int(int64_t(i));
    if (size < 0 || size > (int64_t(1) << 32)) node_error(n, "sizes[{}] = {} is out of range", i, size);
    const double ratio = double(size) / double(std::max<int64_t>(1, in[size_t(axes[i])]));
    common = policy == "not_larger" ? std::min(common, ratio) : std::max(common, ratio);
    p.scale[size_t(axes[i])] = ratio;
    p.out[size_t(axes[i])] = size;
  }
  if (policy != "stretch")
    for (int64_t a : axes) {
      p.scale[size_t(a)] = common;
      p.out[size_t(a)] = int64_t(std::round(common * double(in[size_t(a)])));
    }
  return p;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const std::string mode = attr_string(n, "mode");
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    node_error(n, "mode must be nearest, linear or cubic, got '{}'", mode);
  if (!x.shape.rank_known) return {TensorType{x.dtype, Shape::unknown_rank()}};
  const Tensor* scales = c.value(2);
  const Tensor* sizes = c.value(3);
  const bool scales_known = !c.has_input(2) || scales, sizes_known = !c.has_input(3) || sizes;
  if (!x.shape.fully_known() || !scales_known || !sizes_known) {
    std::vector<Dim> dims(size_t(x.rank()));
    // Axes Resize does not touch keep their dims even when the others are unknown.
    const std::vector<int64_t> axes = resized_axes(n, x.rank());
    for (int a = 0; a < x.rank(); ++a)
      if (std::find(axes.begin(), axes.end(), a) == axes.end()) dims[size_t(a)] = x.shape.dims[size_t(a)];
    return {TensorType{x.dtype, Shape(dims)}};
  }
  return {TensorType{x.dtype, Shape(plan_of(n, x.shape.concrete(), scales, sizes).out)}};
}

// ---- per-axis taps ------------------------------------------------------------------------


// `out` is the resized length as a real number, in·s: ONNX's reference uses it (not the floored
// integer length) in align_corners and tf_crop_and_resize, which matters when scales are given.
double source_coordinate(const Node& n, const std::string& mode, double x, double s, int64_t in, double out,
                         double roi_start, double roi_end) {
  if (mode == "half_pixel") return (x + 0.5) / s - 0.5;
  if (mode == "pytorch_half_pixel") return out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
  if (mode == "align_corners") return out <= 1 ? 0.0 : x * double(in - 1) / (out - 1);
  if (mode == "asymmetric") return x / s;
  if (mode == "tf_half_pixel_for_nn") return (x + 0.5) / s;
  if (mode == "half_pixel_symmetric") {
    const double adjustment = std::floor(out + 1e-9) / (s * double(in));
    const double offset = double(in) / 2 * (1 - adjustment);
    return offset + (x + 0.5) / s - 0.5;
  }
  if (mode == "tf_crop_and_resize")
    return out > 1 ? roi_start * double(in - 1) + x * (roi_end - roi_start) * double(in - 1) / (out - 1)
                   : 0.5 * (roi_start + roi_end) * double(in - 1);
  node_error(n, "coordinate_transformation_mode '{}' is not known", mode);
}

double cubic_kernel(double x, double a) {
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

int64_t nearest_index(const std::string& rounding, double x) {
  const double f = std::floor(x);
  if (rounding == "floor") return int64_t(f);
  if (rounding == "ceil") return int64_t(std::ceil(x));
  if (x - f == 0.5) return int64_t(rounding == "round_prefer_ceil" ? f + 1 : f);
  return int64_t(std::round(x));
}

ResizeTaps taps_for_axis(const Node& n, int64_t in, int64_t out, double s, double roi_start, double roi_end) {
  const std::string mode = attr_string(n, "mode");
  const std::string transform = attr_string(n, "coordinate_transformation_mode");
  const std::string rounding = attr_string(n, "nearest_mode");
  if (mode == "nearest" && rounding != "round_prefer_floor" && rounding != "round_prefer_ceil" && rounding != "floor" &&
      rounding != "ceil")
    node_error(n, "nearest_mode '{}' is not known", rounding);
  const bool antialias = attr_int(n, "antialias") != 0 && mode != "nearest" && s < 1;
  const bool exclude_outside = attr_int(n, "exclude_outside") != 0;
  const double a = attr_float(n, "cubic_coeff_a");
  const double radius = mode == "cubic" ? 2 : 1;
  const double stretch = antialias ? s : 1.0;  // kernel evaluated at (distance · stretch)
  const int64_t first = mode == "nearest" ? 0 : int64_t(std::floor(-radius / stretch) + 1);
  ResizeTaps t;
  t.width = mode == "nearest" ? 1 : 2 * (1 - first);
  for (int64_t x = 0; x < out; ++x) {
    const double source = source_coordinate(n, transform, double(x), s, in, double(in) * s, roi_start, roi_end);
    t.outside.push_back(transform == "tf_crop_and_resize" && (source < 0 || source > double(in - 1)));
    if (mode == "nearest") {
      t.index.push_back(std::clamp<int64_t>(nearest_index(rounding, source), 0, in - 1));
      t.weight.push_back(1.0);
      continue;
    }
    const double base = std::floor(source), ratio = source - base;
    std::vector<double> w(size_t(t.width));
    double sum = 0;
    for (int64_t k = 0; k < t.width; ++k) {
      const double d = (double(first + k) - ratio) * stretch;
      w[size_t(k)] = mode == "cubic" ? cubic_kernel(d, a) : std::max(0.0, 1 - std::abs(d));
      const int64_t at = int64_t(base) + first + k;
      if (exclude_outside && (at < 0 || at >= in)) w[size_t(k)] = 0;
      sum += w[size_t(k)];
    }
    for (int64_t k = 0; k < t.width; ++k) {
      t.index.push_back(std::clamp<int64_t>(int64_t(base) + first + k, 0, in - 1));
      t.weight.push_back(sum != 0 && (antialias || exclude_outside) ? w[size_t(k)] / sum : w[size_t(k)]);
    }
  }
  return t;
}

}  // namespace

bool copies_axis(const ResizeTaps& t, int64_t size) {
  if (t.identity) return true;
  if (int64_t(t.index.size()) != size * t.width) return false;
  for (int64_t i = 0; i < size; ++i)
    for (int64_t j = 0; j < t.width; ++j) {
      const double w = t.weight[size_t(i * t.width + j)];
      if (w != 0 && (w != 1 || t.index[size_t(i * t.width + j)] != i)) return false;
    }
  return true;
}

std::vector<ResizeTaps> resize_taps(const Node& n, const Dims& in, const Tensor* roi_input, const Tensor* scales,
                                    const Tensor* sizes) {
  const Plan plan = plan_of(n, in, scales, sizes);
  const int rank = int(in.size());
  std::vector<double> roi;
  if (roi_input && roi_input->numel() > 0) roi = roi_input->to_double_vector();
  const std::vector<int64_t> axes = resized_axes(n, rank);
  std::vector<ResizeTaps> taps(static_cast<size_t>(rank));
  for (int a = 0; a < rank; ++a) {
    double start = 0, end = 1;
    const auto pos = std::find(axes.begin(), axes.end(), a);
    if (pos != axes.end() && roi.size() == 2 * axes.size()) {
      start = roi[size_t(pos - axes.begin())];
      end = roi[size_t(pos - axes.begin()) + axes.size()];
    }
    if (pos == axes.end()) {  // untouched axis: the identity
      ResizeTaps& t = taps[size_t(a)];
      for (int64_t i = 0; i < in[size_t(a)]; ++i) t.index.push_back(i), t.weight.push_back(1), t.outside.push_back(0);
      t.identity = true;
      continue;
    }
    taps[size_t(a)] = taps_for_axis(n, in[size_t(a)], plan.out[size_t(a)], plan.scale[size_t(a)], start, end);
  }
  return taps;
}

namespace {

void reference(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& x = k.in(0);
  const int rank = x.rank();
  const std::vector<ResizeTaps> taps = resize_taps(n, x.dims(), k.has_input(1) ? &k.in(1) : nullptr,
                                                   k.has_input(2) ? &k.in(2) : nullptr,
                                                   k.has_input(3) ? &k.in(3) : nullptr);
  std::vector<int64_t> in_stride(size_t(rank), 1);
  for (int a = rank - 2; a >= 0; --a) in_stride[size_t(a)] = in_stride[size_t(a + 1)] * x.dims()[size_t(a + 1)];
  const double extrapolation = attr_float(n, "extrapolation_value");
  const std::vector<double> in = x.to_double_vector();
  Tensor& y = k.out(0);
  std::vector<int64_t> coord(size_t(rank), 0);
  // Sum over the cartesian product of the axes' taps, axis by axis.
  auto gather = [&](auto&& self, int axis, int64_t offset, double weight) -> double {
    if (axis == rank) return weight * in[size_t(offset)];
    const ResizeTaps& t = taps[size_t(axis)];
    const int64_t at = coord[size_t(axis)] * t.width;
    double sum = 0;
    for (int64_t j = 0; j < t.width; ++j)
      if (const double w = t.weight[size_t(at + j)]; w != 0)
        sum += self(self, axis + 1, offset + t.index[size_t(at + j)] * in_stride[size_t(axis)], weight * w);
    return sum;
  };
  visit_dtype(y.dtype(), [&]<typename T>() {
    T* out = y.data<T>();
    for (int64_t i = 0; i < y.numel(); ++i) {
      bool outside = false;
      for (int a = 0; a < rank; ++a) outside = outside || taps[size_t(a)].outside[size_t(coord[size_t(a)])];
      const double v = outside ? extrapolation : gather(gather, 0, 0, 1.0);
      // Integer tensors (an INT8 plan resizes its u8 values) round to the nearest, ties to even.
      out[i] = from_double<T>(std::is_integral_v<T> ? std::nearbyint(v) : v);
      for (int a = rank - 1; a >= 0 && ++coord[size_t(a)] == y.dims()[size_t(a)]; --a) coord[size_t(a)] = 0;
    }
  });
}

// Opset 10 Resize and Upsample: (X, scales) with asymmetric coordinates and floor rounding;
// Upsample-7 carries the scales as an attribute.
void upgrade(Node& n, UpgradeContext& c) {
  // Without X the verifier names the missing input; nothing to rewrite here (found by tests/fuzz).
  if (c.opset >= 11 || n.inputs.empty()) return;
  ValueId scales = n.inputs.size() > 1 ? n.inputs[1] : kNoValue;
  if (n.has_attr("scales")) {
    const std::vector<float> values = attr_floats(n, "scales");
    scales = c.add_const(Tensor::from_vector<float>({int64_t(values.size())}, values));
    n.erase_attr("scales");
  }
  n.inputs = {n.inputs[0], kNoValue, scales};
  if (n.has_attr("mode") && attr_string(n, "mode") == "bilinear") n.set_attr("mode", std::string("linear"));
  n.set_attr("coordinate_transformation_mode", std::string("asymmetric"));
  n.set_attr("nearest_mode", std::string("floor"));
}

}  // namespace

extern const OpDef kResize{
    .kind = OpKind::Resize,
    .onnx_name = "Resize",
    .min_inputs = 1,
    .max_inputs = 4,
    .attrs = {AttrSpec{"antialias", AttrType::Int, int64_t{0}},
              AttrSpec{.name = "axes", .type = AttrType::Ints, .optional = true},
              AttrSpec{"coordinate_transformation_mode", AttrType::String, std::string("half_pixel")},
              AttrSpec{"cubic_coeff_a", AttrType::Float, -0.75f},
              AttrSpec{"exclude_outside", AttrType::Int, int64_t{0}},
              AttrSpec{"extrapolation_value", AttrType::Float, 0.0f},
              AttrSpec{"keep_aspect_ratio_policy", AttrType::String, std::string("stretch")},
              AttrSpec{"mode", AttrType::String, std::string("nearest")},
              AttrSpec{"nearest_mode", AttrType::String, std::string("round_prefer_floor")},
              AttrSpec{.name = "scales", .type = AttrType::Floats, .optional = true}},
    .infer = infer,
    .reference = reference,
    .upgrade = upgrade};

}  // namespace nnc
