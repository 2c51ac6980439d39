// ops/conv_transpose.cpp — ConvTranspose (the gradient of Conv, used for learned upsampling).
// ONNX opsets 1, 11. https://onnx.ai/onnx/operators/onnx__ConvTranspose.html
//
//   X [N, C, D1..Dk], W [C, M/group, K1..Kk], B [M]  ->  Y [N, M, O1..Ok]
//   O = stride·(D − 1) + output_padding + (K − 1)·dilation + 1 − pad_begin − pad_end
// With output_shape the padding is derived from it: total = stride·(D−1) + output_padding +
// (K−1)·dilation + 1 − output_shape, split with the odd pixel at the start except for
// SAME_UPPER (as the spec's pseudo-code says).
//
// Reference kernel: col = Wᵀ · X per image and group (an sgemm), then col2im scatters every
// column entry into the output position it contributes to. fused `act` as in Conv.
#include <algorithm>

#include "ops/epilogue.h"
#include "ops/sgemm.h"

namespace nnc {
namespace {

struct Geometry {
  std::vector<int64_t> input, kernel, stride, dilation, pad_begin, pad_end, output;
};

std::vector<int64_t> ints_or(const Node& n, std::string_view name, size_t count, int64_t fallback) {
  if (!n.has_attr(name) || attr_ints(n, name).empty()) return std::vector<int64_t>(count, fallback);
  const std::vector<int64_t> v = attr_ints(n, name);
  if (v.size() != count) node_error(n, "{} has {} values; expected {}", name, v.size(), count);
  return v;
}

Geometry geometry(const Node& n, const std::vector<int64_t>& input, const std::vector<int64_t>& kernel) {
  const size_t rank = input.size();
  Geometry g{input, kernel, ints_or(n, "strides", rank, 1), ints_or(n, "dilations", rank, 1), {}, {}, {}};
  const std::vector<int64_t> output_padding = ints_or(n, "output_padding", rank, 0);
  const std::vector<int64_t> pads = ints_or(n, "pads", 2 * rank, 0);
  const std::string auto_pad = attr_string(n, "auto_pad");
  if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
    node_error(n, "auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '{}'", auto_pad);
  std::vector<int64_t> output_shape;
  if (n.has_attr("output_shape")) {
    output_shape = attr_ints(n, "output_shape");
    if (output_shape.size() == rank + 2) output_shape.erase(output_shape.begin(), output_shape.begin() + 2);
    if (output_shape.size() != rank) node_error(n, "output_shape has {} values for {} spatial dims", output_shape.size(), rank);
  }
  for (size_t i = 0; i < rank; ++i) {
    if (g.stride[i] < 1 || g.dilation[i] < 1) node_error(n, "strides and dilations must be at least 1");
    if (kernel[i] < 1) node_error(n, "kernel size {} on spatial axis {} must be at least 1", kernel[i], i);
    if (output_padding[i] < 0 || pads[i] < 0 || pads[i + rank] < 0) node_error(n, "pads and output_padding must be non-negative");
    // In 128 bits: the attributes are any int64 a file holds (a fuzzed stride of INT64_MAX overflowed).
    const __int128 full_wide = __int128(g.stride[i]) * (input[i] - 1) + output_padding[i] +
                               __int128(kernel[i] - 1) * g.dilation[i] + 1;
    if (full_wide > __int128(int64_t(1) << 62) || pads[i] > (int64_t(1) << 62) || pads[i + rank] > (int64_t(1) << 62))
      node_error(n, "spatial axis {}: strides, dilations, pads and output_padding make sizes over 2^62", i);
    const int64_t full = int64_t(full_wide);
    int64_t begin = pads[i], end = pads[i + rank];
    if (!output_shape.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const __int128 target_wide = !output_shape.empty() ? __int128(output_shape[i]) : __int128(input[i]) * g.stride[i];
      if (target_wide < 1 || target_wide > __int128(full) + (int64_t(1) << 20))
        node_error(n, "output_shape {} on spatial axis {} is out of range", int64_t(std::min<__int128>(target_wide, INT64_MAX)), i);
      const int64_t target = int64_t(target_wide);
      // A larger output_shape than the windows cover (total < 0) pads the end with zeros, as
      // output_padding would; halves round down (towards −∞), as in the spec's Python.
      const int64_t total = full - target;
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      begin = auto_pad == "SAME_UPPER" ? half : total - half;
      end = total - begin;
    } else if (auto_pad == "VALID") {
      begin = end = 0;
    }
    g.pad_begin.push_back(begin);
    g.pad_end.push_back(end);
    g.output.push_back(full - begin - end);
    if (g.output.back() < 1) node_error(n, "output size {} on spatial axis {} is below 1", g.output.back(), i);
  }
  return g;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const TensorType& w = c.in(1);
  if (!is_float(x.dtype) || x.dtype != w.dtype)
    node_error(n, "input and weight must be the same float type, got {} and {}", dtype_name(x.dtype), dtype_name(w.dtype));
  validate_epilogue(n);
  const int64_t group = attr_int(n, "group");
  // No real model has 2^24 groups; the bound keeps group arithmetic exact (found by tests/fuzz).
  if (group < 1 || group > (1 << 24)) node_error(n, "group = {} must be between 1 and 2^24", group);
  if (!x.shape.rank_known || !w.shape.rank_known) return {TensorType{x.dtype, Shape::unknown_rank()}};
  if (x.rank() < 3 || w.rank() != x.rank())
    node_error(n, "input rank {} and weight rank {} must agree and be at least 3", x.rank(), w.rank());
  if (x.shape.dims[1].known() && w.shape.dims[0].known() && x.shape.dims[1].value != w.shape.dims[0].value)
    node_error(n, "input has {} channels but the weight expects {}", x.shape.dims[1].value, w.shape.dims[0].value);
  Dim maps = w.shape.dims[1].known() ? Dim(w.shape.dims[1].value * group) : Dim();
  if (w.shape.dims[0].known() && w.shape.dims[0].value % group != 0)
    node_error(n, "weight has {} input channels, not divisible by group={}", w.shape.dims[0].value, group);
  if (c.has_input(2)) {  // the kernel reads maps values of X's type (found by tests/fuzz)
    const TensorType& b = c.in(2);
    if (b.dtype != x.dtype) node_error(n, "bias is {} but the input is {}", dtype_name(b.dtype), dtype_name(x.dtype));
    if (b.shape.rank_known && (b.rank() != 1 || (maps.known() && b.shape.dims[0].known() && b.shape.dims[0].value != maps.value)))
      node_error(n, "bias has shape {} but the output has {} channels", to_string(b.shape), maps.known() ? maps.value : -1);
  }
  std::vector<Dim> out = {x.shape.dims[0], maps};
  std::vector<int64_t> input, kernel;
  bool known = true;
  for (int i = 2; i < x.rank(); ++i) {
    known = known && x.shape.dims[size_t(i)].known() && w.shape.dims[size_t(i)].known();
    input.push_back(x.shape.dims[size_t(i)].value);
    kernel.push_back(w.shape.dims[size_t(i)].value);
  }
  if (known) {
    for (int64_t d : geometry(n, input, kernel).output) out.emplace_back(d);
  } else {
    out.resize(size_t(x.rank()));
  }
  return {TensorType{x.dtype, Shape(out)}};
}

void conv_transpose_f32(const Node& n, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const Dims& xd = x.dims();
  const Dims& wd = w.dims();
  const int64_t batch = xd[0], channels = xd[1], group = attr_int(n, "group");
  const int64_t channels_per_group = channels / group, maps_per_group = wd[1], maps = maps_per_group * group;
  const std::vector<int64_t> input(xd.begin() + 2, xd.end()), kernel(wd.begin() + 2, wd.end());
  const Geometry geo = geometry(n, input, kernel);
  const size_t rank = input.size();
  const int64_t in_size = product(input), out_size = product(geo.output), kernel_size = product(kernel);
  const int64_t rows = maps_per_group * kernel_size;  // (m, k...) per group
  // Wᵀ per group: [rows, channels_per_group].
  std::vector<float> wt(size_t(group * rows * channels_per_group));
  const float* wp = w.data<float>();
  for (int64_t g = 0; g < group; ++g)
    for (int64_t c = 0; c < channels_per_group; ++c)
      for (int64_t r = 0; r < rows; ++r)
        wt[size_t((g * rows + r) * channels_per_group + c)] = wp[(g * channels_per_group + c) * rows + r];
  std::vector<float> col(size_t(rows * in_size));
  std::vector<int64_t> k_index(rank), i_index(rank);
  float* yp = y.data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t g = 0; g < group; ++g) {
      const float* xg = x.data<float>() + (b * channels + g * channels_per_group) * in_size;
      sgemm(rows, in_size, channels_per_group, wt.data() + g * rows * channels_per_group, channels_per_group, xg,
            in_size, col.data(), in_size, false);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t m = r / kernel_size;
        int64_t rest = r % kernel_size;
        for (size_t a = rank; a-- > 0;) k_index[a] = rest % kernel[a], rest /= kernel[a];
        float* ym = yp + (b * maps + g * maps_per_group + m) * out_size;
        for (int64_t p = 0; p < in_size; ++p) {
          int64_t q = p, offset = 0;
          bool inside = true;
          for (size_t a = rank; a-- > 0;) i_index[a] = q % input[a], q /= input[a];
          for (size_t a = 0; a < rank && inside; ++a) {
            const int64_t o = i_index[a] * geo.stride[a] + k_index[a] * geo.dilation[a] - geo.pad_begin[a];
            inside = o >= 0 && o < geo.output[a];
            offset = offset * geo.output[a] + o;
          }
          if (inside) ym[offset] += col[size_t(r * in_size + p)];
        }
      }
    }
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t m = 0; m < maps; ++m) {
      float* out = yp + (b * maps + m) * out_size;
      if (bias)
        for (int64_t i = 0; i < out_size; ++i) out[i] += bias->data<float>()[m];
      apply_epilogue(n, out, out_size);
    }
}

void reference(KernelContext& k) {
  const bool f32 = k.in(0).dtype() == DType::F32;
  auto as_f32 = [&](const Tensor& t) { return f32 ? t : t.cast(DType::F32); };
  const Tensor x = as_f32(k.in(0)), w = as_f32(k.in(1));
  const Tensor bias = k.has_input(2) ? as_f32(k.in(2)) : Tensor();
  Tensor y = f32 ? k.out(0) : Tensor(DType::F32, k.out(0).dims());
  conv_transpose_f32(k.node, x, w, k.has_input(2) ? &bias : nullptr, y);
  if (!f32) k.out(0) = y.cast(k.out(0).dtype());
}

std::vector<AttrSpec> attrs() {
  return with_epilogue_attrs({
      AttrSpec{"auto_pad", AttrType::String, std::string("NOTSET")},
      AttrSpec{.name = "dilations", .type = AttrType::Ints, .optional = true},
      AttrSpec{"group", AttrType::Int, int64_t{1}},
      AttrSpec{.name = "kernel_shape", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "output_padding", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "output_shape", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "pads", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "strides", .type = AttrType::Ints, .optional = true},
  });
}

}  // namespace

extern const OpDef kConvTranspose{.kind = OpKind::ConvTranspose,
                                  .onnx_name = "ConvTranspose",
                                  .min_inputs = 2,
                                  .max_inputs = 3,
                                  .attrs = attrs(),
                                  .infer = infer,
                                  .reference = reference};

}  // namespace nnc
