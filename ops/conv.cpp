// ops/conv.cpp — Conv: N-D convolution with groups, dilations, strides, padding and auto_pad.
// ONNX opsets 1, 11. https://onnx.ai/onnx/operators/onnx__Conv.html
//
//   X [N, C, D1..Dk], W [M, C/group, K1..Kk], B [M] (optional)  ->  Y [N, M, O1..Ok]
//
// The reference kernel is im2col + sgemm: for each image and group, the input windows are laid
// out as columns (C/group · K1..Kk rows, one column per output position, a few thousand columns
// at a time so the buffer stays small), and W's rows times those columns are the outputs. A 1x1
// stride-1 unpadded Conv needs no im2col: the input already is the column matrix.
// nnc extension for fused graphs (passes/fuse_activations.cpp): input 3 is a residual added to
// the result, and `act` an activation applied last, or before the residual when
// `residual_after_act` is 1 (ops/epilogue.h).
// f16/bf16/f64 run through an f32 copy.
#include <algorithm>
#include <cstring>

#include "ops/epilogue.h"
#include "ops/sgemm.h"
#include "ops/window_geometry.h"

namespace nnc {
namespace {

std::vector<int64_t> kernel_of(const Node& n, const Shape& w) {
  std::vector<int64_t> kernel;
  for (size_t i = 2; i < w.dims.size(); ++i) kernel.push_back(w.dims[i].known() ? w.dims[i].value : -1);
  if (n.has_attr("kernel_shape")) {
    const std::vector<int64_t> attr = attr_ints(n, "kernel_shape");
    if (attr.size() != kernel.size())
      node_error(n, "kernel_shape has {} values but the weight has {} spatial dims", attr.size(), kernel.size());
    for (size_t i = 0; i < attr.size(); ++i) {
      if (kernel[i] >= 0 && attr[i] != kernel[i])
        node_error(n, "kernel_shape[{}] = {} but the weight's spatial dim is {}", i, attr[i], kernel[i]);
      kernel[i] = attr[i];
    }
  }
  return kernel;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const TensorType& w = c.in(1);
  if (!is_float(x.dtype) || x.dtype != w.dtype)
    node_error(n, "input and weight must be the same float type, got {} and {}", dtype_name(x.dtype), dtype_name(w.dtype));
  validate_epilogue(n);
  if (n.has_attr("residual_after_act") && attr_int(n, "residual_after_act") != 0 && attr_int(n, "residual_after_act") != 1)
    node_error(n, "residual_after_act = {} must be 0 or 1", attr_int(n, "residual_after_act"));
  const int64_t group = attr_int(n, "group");
  // No real model has 2^24 groups; the bound keeps group arithmetic exact (found by tests/fuzz).
  if (group < 1 || group > (1 << 24)) node_error(n, "group = {} must be between 1 and 2^24", group);
  if (!x.shape.rank_known || !w.shape.rank_known) return {TensorType{x.dtype, Shape::unknown_rank()}};
  if (x.rank() < 3) node_error(n, "input has rank {}; Conv needs [N, C, spatial...]", x.rank());
  if (x.rank() > 5) node_error(n, "input has rank {}; nnc's Conv supports up to 3 spatial dims", x.rank());
  if (w.rank() != x.rank()) node_error(n, "weight has rank {} but the input has rank {}", w.rank(), x.rank());
  const Dim& channels = x.shape.dims[1];
  const Dim& per_group = w.shape.dims[1];
  const Dim& maps = w.shape.dims[0];
  if (channels.known() && per_group.known() && channels.value != per_group.value * group)
    node_error(n, "input has {} channels but the weight expects {} (group={} x {} per group)", channels.value,
               per_group.value * group, group, per_group.value);
  if (maps.known() && maps.value % group != 0)
    node_error(n, "weight has {} output channels, not divisible by group={}", maps.value, group);
  if (c.has_input(2)) {
    const Shape& b = c.in(2).shape;
    if (c.in(2).dtype != x.dtype)  // the kernels read it as X's type (found by tests/fuzz)
      node_error(n, "bias is {} but the input is {}", dtype_name(c.in(2).dtype), dtype_name(x.dtype));
    if (b.rank_known && (b.rank() != 1 || (maps.known() && b.dims[0].known() && b.dims[0].value != maps.value)))
      node_error(n, "bias has shape {} but the weight has {} output channels", to_string(b), maps.known() ? maps.value : -1);
  }
  const std::vector<int64_t> kernel = kernel_of(n, w.shape);
  std::vector<Dim> out = {x.shape.dims[0], maps};
  bool kernel_known = std::all_of(kernel.begin(), kernel.end(), [](int64_t k) { return k >= 0; });
  if (kernel_known) {
    const std::vector<Dim> spatial(x.shape.dims.begin() + 2, x.shape.dims.end());
    for (const Dim& d : window_output_dims(n, spatial, kernel, false)) out.push_back(d);
  } else {
    out.resize(size_t(x.rank()));
  }
  TensorType y{x.dtype, Shape(out)};
  if (c.has_input(3) && c.in(3).dtype != x.dtype)
    node_error(n, "residual input is {} but the input is {}", dtype_name(c.in(3).dtype), dtype_name(x.dtype));
  if (c.has_input(3) && c.in(3).shape.rank_known && y.shape.fully_known() && c.in(3).shape.fully_known() &&
      c.in(3).shape != y.shape)
    node_error(n, "residual input has shape {} but the output is {}", to_string(c.in(3).shape), to_string(y.shape));
  return {y};
}


struct Im2col {
  Box3 in, kernel, out, stride, dilation, pad;
  int64_t channels;  // per group
};

// Columns for output rows [row0, row1) (a row is one (od, oh) pair, all ow), written as
// col[r][p] with r = (c, kd, kh, kw) and p the position within the chunk.
void im2col(const Im2col& s, const float* x, int64_t row0, int64_t row1, float* col) {
  const int64_t width = (row1 - row0) * s.out.w;
  int64_t r = 0;
  for (int64_t c = 0; c < s.channels; ++c)
    for (int64_t kd = 0; kd < s.kernel.d; ++kd)
      for (int64_t kh = 0; kh < s.kernel.h; ++kh)
        for (int64_t kw = 0; kw < s.kernel.w; ++kw, ++r) {
          float* dst = col + r * width;
          for (int64_t row = row0; row < row1; ++row) {
            const int64_t od = row / s.out.h, oh = row % s.out.h;
            const int64_t id = od * s.stride.d - s.pad.d + kd * s.dilation.d;
            const int64_t ih = oh * s.stride.h - s.pad.h + kh * s.dilation.h;
            float* out = dst + (row - row0) * s.out.w;
            if (id < 0 || id >= s.in.d || ih < 0 || ih >= s.in.h) {
              std::memset(out, 0, size_t(s.out.w) * sizeof(float));
              continue;
            }
            const float* src = x + ((c * s.in.d + id) * s.in.h + ih) * s.in.w;
            const int64_t offset = kw * s.dilation.w - s.pad.w;
            for (int64_t ow = 0; ow < s.out.w; ++ow) {
              const int64_t iw = ow * s.stride.w + offset;
              out[ow] = iw >= 0 && iw < s.in.w ? src[iw] : 0.0f;
            }
          }
        }
}

void conv_f32(const Node& n, const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor* residual, Tensor& y) {
  const Dims& xd = x.dims();
  const Dims& wd = w.dims();
  const int64_t batch = xd[0], channels = xd[1], maps = wd[0];
  const int64_t group = attr_int(n, "group");
  const std::vector<int64_t> input(xd.begin() + 2, xd.end()), kernel(wd.begin() + 2, wd.end());
  const WindowGeometry geo = window_geometry(n, input, kernel, false);
  Im2col s{box3(input, 1), box3(kernel, 1), box3(geo.output, 1), box3(geo.stride, 1), box3(geo.dilation, 1),
           box3(geo.pad_begin, 0), channels / group};
  const int64_t in_size = s.in.d * s.in.h * s.in.w, out_size = s.out.d * s.out.h * s.out.w;
  const int64_t rows = s.kernel.d * s.kernel.h * s.kernel.w * s.channels;  // K of the GEMM
  const int64_t maps_per_group = maps / group;
  const bool pointwise = rows == s.channels && out_size == in_size &&
                         std::all_of(geo.stride.begin(), geo.stride.end(), [](int64_t v) { return v == 1; }) &&
                         std::all_of(geo.pad_begin.begin(), geo.pad_begin.end(), [](int64_t v) { return v == 0; });
  const int64_t out_rows = s.out.d * s.out.h;
  const int64_t rows_per_chunk = std::max<int64_t>(1, std::min<int64_t>(out_rows, 4096 / std::max<int64_t>(1, s.out.w)));
  std::vector<float> col(pointwise ? 0 : size_t(rows * rows_per_chunk * s.out.w));
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t g = 0; g < group; ++g) {
      const float* xg = xp + (b * channels + g * s.channels) * in_size;
      const float* wg = wp + g * maps_per_group * rows;
      float* yg = yp + (b * maps + g * maps_per_group) * out_size;
      if (pointwise) {
        sgemm(maps_per_group, out_size, rows, wg, rows, xg, in_size, yg, out_size, false);
        continue;
      }
      for (int64_t row0 = 0; row0 < out_rows; row0 += rows_per_chunk) {
        const int64_t row1 = std::min(out_rows, row0 + rows_per_chunk);
        const int64_t width = (row1 - row0) * s.out.w;
        im2col(s, xg, row0, row1, col.data());
        sgemm(maps_per_group, width, rows, wg, rows, col.data(), width, yg + row0 * s.out.w, out_size, false);
      }
    }
  const bool residual_last = residual_after_activation(n);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t m = 0; m < maps; ++m) {
      float* out = yp + (b * maps + m) * out_size;
      if (bias) {
        const float add = bias->data<float>()[m];
        for (int64_t i = 0; i < out_size; ++i) out[i] += add;
      }
      const float* r = residual ? residual->data<float>() + (b * maps + m) * out_size : nullptr;
      if (r && !residual_last)
        for (int64_t i = 0; i < out_size; ++i) out[i] += r[i];
      apply_epilogue(n, out, out_size);
      if (r && residual_last)
        for (int64_t i = 0; i < out_size; ++i) out[i] += r[i];
    }
}

void reference(KernelContext& k) {
  const bool f32 = k.in(0).dtype() == DType::F32;
  auto as_f32 = [&](const Tensor& t) { return f32 ? t : t.cast(DType::F32); };
  const Tensor x = as_f32(k.in(0)), w = as_f32(k.in(1));
  const Tensor bias = k.has_input(2) ? as_f32(k.in(2)) : Tensor();
  const Tensor residual = k.has_input(3) ? as_f32(k.in(3)) : Tensor();
  if (f32) {
    conv_f32(k.node, x, w, k.has_input(2) ? &bias : nullptr, k.has_input(3) ? &residual : nullptr, k.out(0));
    return;
  }
  Tensor y(DType::F32, k.out(0).dims());
  conv_f32(k.node, x, w, k.has_input(2) ? &bias : nullptr, k.has_input(3) ? &residual : nullptr, y);
  k.out(0) = y.cast(k.out(0).dtype());
}

std::vector<AttrSpec> conv_attrs() {
  return with_epilogue_attrs({
      AttrSpec{"auto_pad", AttrType::String, std::string("NOTSET")},
      AttrSpec{.name = "dilations", .type = AttrType::Ints, .optional = true},
      AttrSpec{"group", AttrType::Int, int64_t{1}},
      AttrSpec{.name = "kernel_shape", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "pads", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "strides", .type = AttrType::Ints, .optional = true},
      AttrSpec{.name = "residual_after_act", .type = AttrType::Int, .optional = true},
  });
}

}  // namespace

extern const OpDef kConv{.kind = OpKind::Conv,
                         .onnx_name = "Conv",
                         .min_inputs = 2,
                         .max_inputs = 4,
                         .attrs = conv_attrs(),
                         .infer = infer,
                         .reference = reference};

}  // namespace nnc
