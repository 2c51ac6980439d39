// ops/quantized_linear.cpp — integer convolution and matrix multiply: ConvInteger,
// MatMulInteger (i32 results) and QLinearConv, QLinearMatMul (requantized results).
// ONNX opset 10. https://onnx.ai/onnx/operators/onnx__QLinearConv.html (and the others)
//
// Inputs are u8/i8 with zero points (per tensor, or per output channel for the weight);
// products of (x − x_zp)(w − w_zp) are summed exactly in int64. The QLinear ops then requantize:
//   y = saturate(round_half_even(acc · x_scale · w_scale / y_scale) + y_zp).
// These are the plainly right versions; nnc's INT8 tactics are checked against them.
//
// nnc extends QLinearConv with a fused epilogue (activation, quantized residual in inputs 9-11,
// float or fixed-point requantization): ops/requantize.h; and QLinearMatMul with an i32 bias per
// column (input 8, at scale a_scale·b_scale[n]), added to the sums before requantization, and
// log2-coded A (a_encoding="log2", see log2_coded). passes/fold_quantized_ops.cpp makes
// such nodes from Quantize/Dequantize pairs around a float Conv.
#include <cmath>

#include "ops/epilogue.h"
#include "ops/requantize.h"
#include "ops/window_geometry.h"

namespace nnc {
namespace {

// ---- shapes --------------------------------------------------------------------------------

std::vector<TensorType> conv_like_shape(InferContext& c, int x_input, int w_input, DType out) {
  const Node& n = c.node;
  const TensorType& x = c.in(x_input);
  const TensorType& w = c.in(w_input);
  if (!is_8bit(x.dtype) || !is_8bit(w.dtype))
    node_error(n, "input and weight must be u8 or i8, got {} and {}", dtype_name(x.dtype), dtype_name(w.dtype));
  const int64_t group = attr_int(n, "group");
  // No real model has 2^24 groups; the bound keeps group arithmetic exact (found by tests/fuzz).
  if (group < 1 || group > (1 << 24)) node_error(n, "group = {} must be between 1 and 2^24", group);
  if (!x.shape.rank_known || !w.shape.rank_known) return {TensorType{out, Shape::unknown_rank()}};
  if (x.rank() < 3 || w.rank() != x.rank()) node_error(n, "input rank {} and weight rank {} must agree and be at least 3", x.rank(), w.rank());
  if (!x.shape.fully_known() || !w.shape.fully_known()) return {TensorType{out, Shape(std::vector<Dim>(size_t(x.rank())))}};
  const Dims xd = x.shape.concrete(), wd = w.shape.concrete();
  if (xd[1] != wd[1] * group) node_error(n, "input has {} channels but the weight expects {}", xd[1], wd[1] * group);
  if (wd[0] % group != 0) node_error(n, "weight has {} output channels, not divisible by group={}", wd[0], group);
  const std::vector<int64_t> input(xd.begin() + 2, xd.end()), kernel(wd.begin() + 2, wd.end());
  Dims y = {xd[0], wd[0]};
  for (int64_t d : window_geometry(n, input, kernel, false).output) y.push_back(d);
  return {TensorType{out, Shape(y)}};
}

Shape matmul_like_shape(const Node& n, const Shape& a, const Shape& b) {
  if (!a.rank_known || !b.rank_known) return Shape::unknown_rank();
  if (a.rank() < 1 || b.rank() < 1) node_error(n, "inputs must have rank at least 1");
  const Shape ba(std::vector<Dim>(a.dims.begin(), a.dims.end() - std::min(a.rank(), 2) + (a.rank() == 1 ? 1 : 0)));
  const Shape bb(std::vector<Dim>(b.dims.begin(), b.dims.end() - std::min(b.rank(), 2) + (b.rank() == 1 ? 1 : 0)));
  const Dim ka = a.dims.back(), kb = b.rank() == 1 ? b.dims[0] : b.dims[size_t(b.rank() - 2)];
  if (ka.known() && kb.known() && ka.value != kb.value) node_error(n, "inner dims {} and {} differ", ka.value, kb.value);
  const Shape shapes[] = {ba, bb};
  std::vector<Dim> out = broadcast_shapes(n, shapes).dims;
  if (a.rank() > 1) out.push_back(a.dims[size_t(a.rank() - 2)]);
  if (b.rank() > 1) out.push_back(b.dims.back());
  return Shape(out);
}

// Each given zero point must have the type of the tensor it centres ({zero point, tensor}
// input pairs): the kernels subtract it as that type's integer (an i64 one overflowed; found by
// tests/fuzz).
void check_zero_point_types(InferContext& c, std::initializer_list<std::pair<int, int>> pairs) {
  for (const auto& [zero, tensor] : pairs)
    if (c.has_input(zero) && c.in(zero).dtype != c.in(tensor).dtype)
      node_error(c.node, "input {} (zero point) is {} but the tensor it belongs to (input {}) is {}", zero,
                 dtype_name(c.in(zero).dtype), tensor, dtype_name(c.in(tensor).dtype));
}

std::vector<TensorType> infer_conv_integer(InferContext& c) {
  check_zero_point_types(c, {{2, 0}, {3, 1}});
  return conv_like_shape(c, 0, 1, DType::I32);
}
std::vector<TensorType> infer_qlinear_conv(InferContext& c) {
  const Node& n = c.node;
  if (!is_8bit(c.in(7).dtype)) node_error(n, "y_zero_point must be u8 or i8, got {}", dtype_name(c.in(7).dtype));
  if (c.has_input(8) && c.in(8).dtype != DType::I32) node_error(n, "bias must be i32, got {}", dtype_name(c.in(8).dtype));
  if (c.in(2).dtype != c.in(0).dtype || c.in(5).dtype != c.in(3).dtype)
    node_error(n, "zero points must have their tensor's type: x {} with x_zero_point {}, w {} with w_zero_point {}",
               dtype_name(c.in(0).dtype), dtype_name(c.in(2).dtype), dtype_name(c.in(3).dtype), dtype_name(c.in(5).dtype));
  validate_epilogue(n);
  if (c.input_count() > 9) {
    if (!c.has_input(9) || !c.has_input(10)) node_error(n, "a residual needs inputs 9 (r) and 10 (r_scale)");
    if (!is_8bit(c.in(9).dtype)) node_error(n, "residual must be u8 or i8, got {}", dtype_name(c.in(9).dtype));
    if (c.has_input(11) && c.in(11).dtype != c.in(9).dtype)
      node_error(n, "residual zero point is {} but the residual is {}", dtype_name(c.in(11).dtype), dtype_name(c.in(9).dtype));
  }
  std::vector<TensorType> y = conv_like_shape(c, 0, 3, c.in(7).dtype);
  if (c.has_input(9) && c.in(9).shape.fully_known() && y[0].shape.fully_known() && c.in(9).shape != y[0].shape)
    node_error(n, "residual has shape {} but the output is {}", to_string(c.in(9).shape), to_string(y[0].shape));
  return y;
}
// B's zero point (input `zero`) holds one value or one per column of B (the kernel indexes it
// by column; a shorter one was read past its end, found by tests/fuzz).
void check_column_zero_point(InferContext& c, int zero, int b) {
  if (!c.has_input(zero) || !c.in(zero).shape.fully_known() || !c.in(b).shape.rank_known || c.in(b).rank() == 0) return;
  const Dim columns = c.in(b).rank() == 1 ? Dim(1) : c.in(b).shape.dims.back();
  int64_t count = 1;
  for (int64_t d : c.in(zero).shape.concrete()) count *= d;
  if (count > 1 && c.in(zero).rank() != 1) node_error(c.node, "input {} (B's zero point) must be a scalar or 1-D", zero);
  if (count > 1 && columns.known() && count != columns.value)
    node_error(c.node, "input {} (B's zero point) has {} values for {} columns", zero, count, columns.value);
}

std::vector<TensorType> infer_matmul_integer(InferContext& c) {
  if (!is_8bit(c.in(0).dtype) || !is_8bit(c.in(1).dtype))
    node_error(c.node, "inputs must be u8 or i8, got {} and {}", dtype_name(c.in(0).dtype), dtype_name(c.in(1).dtype));
  check_zero_point_types(c, {{2, 0}, {3, 1}});
  check_column_zero_point(c, 3, 1);
  return {TensorType{DType::I32, matmul_like_shape(c.node, c.in(0).shape, c.in(1).shape)}};
}
// nnc's a_encoding="log2": A holds codes c standing for 2^−c · a_scale (QSoftmax's log2 output,
// FQ-ViT's log-int-softmax), so the product with B is a sum of B shifted right by c. Codes are
// at most 31 (QSoftmax's bits ≤ 5).
bool log2_coded(const Node& n) {
  if (!n.has_attr("a_encoding")) return false;
  const std::string encoding = attr_string(n, "a_encoding");
  if (encoding != "log2" && encoding != "linear") node_error(n, "a_encoding = '{}' must be 'linear' or 'log2'", encoding);
  return encoding == "log2";
}

std::vector<TensorType> infer_qlinear_matmul(InferContext& c) {
  if (!is_8bit(c.in(0).dtype) || !is_8bit(c.in(3).dtype) || !is_8bit(c.in(7).dtype))
    node_error(c.node, "a, b and y_zero_point must be u8 or i8");
  check_zero_point_types(c, {{2, 0}, {5, 3}});
  check_column_zero_point(c, 5, 3);
  if (log2_coded(c.node) && c.in(0).dtype != DType::U8) node_error(c.node, "log2-coded A must be u8 codes");
  if (c.has_input(8)) {  // nnc's bias: i32 at scale a_scale·b_scale, one per column (as B's zero point)
    if (c.in(8).dtype != DType::I32) node_error(c.node, "bias (input 8) must be i32, got {}", dtype_name(c.in(8).dtype));
    check_column_zero_point(c, 8, 3);
  }
  return {TensorType{c.in(7).dtype, matmul_like_shape(c.node, c.in(0).shape, c.in(3).shape)}};
}

// ---- kernels -------------------------------------------------------------------------------

// Values minus their zero point (per tensor, or per slice of `axis_size` along the leading axis
// group of size `inner` — the weight's output channels).
std::vector<int64_t> centered(const Tensor& t, const Tensor* zero, int64_t inner) {
  std::vector<int64_t> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t z = !zero || zero->numel() == 0 ? 0 : zero->get_int(zero->numel() == 1 ? 0 : (i / inner) % zero->numel());
    v[size_t(i)] = t.get_int(i) - z;
  }
  return v;
}

// Direct N-D convolution (≤ 3 spatial dims) of centred integers. The loops run weight by
// weight with the innermost over an output row, so the plain version is fast enough for the
// tuner, which runs it once per INT8 node to check the fast kernels against it.
std::vector<int64_t> integer_conv(const Node& n, const Tensor& x, const Tensor* x_zero, const Tensor& w, const Tensor* w_zero,
                                  const Dims& y) {
  const Dims& xd = x.dims();
  const Dims& wd = w.dims();
  const int64_t group = attr_int(n, "group");
  const std::vector<int64_t> input(xd.begin() + 2, xd.end()), kernel(wd.begin() + 2, wd.end());
  if (input.size() > 3) node_error(n, "at most 3 spatial dims are supported");
  const WindowGeometry g = window_geometry(n, input, kernel, false);
  auto pad3 = [](std::vector<int64_t> v, int64_t fill) {
    v.insert(v.begin(), 3 - v.size(), fill);
    return v;
  };
  const std::vector<int64_t> in = pad3(input, 1), k = pad3(kernel, 1), out = pad3(g.output, 1), s = pad3(g.stride, 1),
                             d = pad3(g.dilation, 1), p = pad3(g.pad_begin, 0);
  const int64_t kernel_size = k[0] * k[1] * k[2];
  const std::vector<int64_t> xs = centered(x, x_zero, product(std::span(xd)));
  const std::vector<int64_t> ws = centered(w, w_zero, wd[1] * kernel_size);
  const int64_t channels = xd[1], per_group = wd[1], maps = wd[0], maps_per_group = maps / group;
  const int64_t in_plane = in[0] * in[1] * in[2], out_plane = out[0] * out[1] * out[2];
  std::vector<int64_t> acc(size_t(product(y)), 0);
  for (int64_t b = 0; b < xd[0]; ++b)
    for (int64_t m = 0; m < maps; ++m) {
      int64_t* plane = acc.data() + (b * maps + m) * out_plane;
      for (int64_t c = 0; c < per_group; ++c) {
        const int64_t channel = (m / maps_per_group) * per_group + c;
        const int64_t* image = xs.data() + (b * channels + channel) * in_plane;
        for (int64_t k0 = 0; k0 < k[0]; ++k0)
          for (int64_t k1 = 0; k1 < k[1]; ++k1)
            for (int64_t k2 = 0; k2 < k[2]; ++k2) {
              const int64_t weight = ws[size_t(((m * per_group + c) * k[0] + k0) * k[1] * k[2] + k1 * k[2] + k2)];
              if (weight == 0) continue;
              for (int64_t o0 = 0; o0 < out[0]; ++o0) {
                const int64_t i0 = o0 * s[0] - p[0] + k0 * d[0];
                if (i0 < 0 || i0 >= in[0]) continue;
                for (int64_t o1 = 0; o1 < out[1]; ++o1) {
                  const int64_t i1 = o1 * s[1] - p[1] + k1 * d[1];
                  if (i1 < 0 || i1 >= in[1]) continue;
                  const int64_t* row = image + (i0 * in[1] + i1) * in[2];
                  int64_t* sums = plane + (o0 * out[1] + o1) * out[2];
                  for (int64_t o2 = 0; o2 < out[2]; ++o2) {
                    const int64_t i2 = o2 * s[2] - p[2] + k2 * d[2];
                    if (i2 >= 0 && i2 < in[2]) sums[o2] += weight * row[i2];
                  }
                }
              }
            }
      }
    }
  return acc;
}

// Batched, broadcast matrix product of centred integers. b's zero point may be per column.
std::vector<int64_t> integer_matmul(const Tensor& a, const Tensor* a_zero, const Tensor& b, const Tensor* b_zero, const Dims& y) {
  const Dims ad = a.rank() == 1 ? Dims{1, a.dims()[0]} : a.dims();
  const Dims bd = b.rank() == 1 ? Dims{b.dims()[0], 1} : b.dims();
  const int64_t M = ad[ad.size() - 2], K = ad.back(), N = bd.back();
  const Dims batch_a(ad.begin(), ad.end() - 2), batch_b(bd.begin(), bd.end() - 2);
  const Tensor a2 = a.reshaped(ad), b2 = b.reshaped(bd);
  const std::vector<int64_t> av = centered(a2, a_zero, K);  // per-row zero point of A
  std::vector<int64_t> column_zero(size_t(N), 0);
  if (b_zero && b_zero->numel() > 0)
    for (int64_t col = 0; col < N; ++col) column_zero[size_t(col)] = b_zero->get_int(b_zero->numel() == 1 ? 0 : col);
  std::vector<int64_t> bv(size_t(b2.numel()));
  for (int64_t i = 0; i < b2.numel(); ++i) bv[size_t(i)] = b2.get_int(i) - column_zero[size_t(i % N)];
  const int64_t batches = product(y) / std::max<int64_t>(1, M * N);
  Dims batch = y;
  batch.resize(batch.size() - (a.rank() > 1 ? 1 : 0) - (b.rank() > 1 ? 1 : 0));
  std::vector<int64_t> out(size_t(batches * M * N), 0);
  for (int64_t i = 0; i < batches; ++i) {
    const int64_t ao = broadcast_index(i, batch, batch_a) * M * K, bo = broadcast_index(i, batch, batch_b) * K * N;
    for (int64_t r = 0; r < M; ++r) {
      int64_t* row = out.data() + (i * M + r) * N;
      for (int64_t kk = 0; kk < K; ++kk) {
        const int64_t a_value = av[size_t(ao + r * K + kk)];
        const int64_t* b_row = bv.data() + bo + kk * N;
        for (int64_t col = 0; col < N; ++col) row[col] += a_value * b_row[col];
      }
    }
  }
  return out;
}

void store_i32(const std::vector<int64_t>& acc, Tensor& y) {
  for (size_t i = 0; i < acc.size(); ++i) y.data<int32_t>()[i] = int32_t(acc[i]);
}

// y = saturate(round(acc · scale(channel) / y_scale) + y_zp), channel = (i / inner) % count.
void requantize(const std::vector<int64_t>& acc, double x_scale, const Tensor& w_scale, int64_t inner, const Tensor& y_scale,
                const Tensor& y_zero, Tensor& y) {
  const double ys = y_scale.get_double(0), yz = double(y_zero.get_int(0));
  const double low = y.dtype() == DType::U8 ? 0 : -128, high = y.dtype() == DType::U8 ? 255 : 127;
  std::vector<double> scales;  // x_scale · w_scale per channel, formed once
  for (int64_t c = 0; c < w_scale.numel(); ++c) scales.push_back(x_scale * w_scale.get_double(c));
  for (size_t i = 0; i < acc.size(); ++i) {
    const int64_t ch = scales.size() == 1 ? 0 : (int64_t(i) / inner) % int64_t(scales.size());
    const double q = requantize_linear(double(acc[i]), scales[size_t(ch)], ys, yz, low, high);
    if (y.dtype() == DType::U8) y.data<uint8_t>()[i] = uint8_t(q);
    else y.data<int8_t>()[i] = int8_t(q);
  }
}

const Tensor* optional(KernelContext& k, int i) { return k.has_input(i) ? &k.in(i) : nullptr; }

// Scales and zero points of x, y and the residual are per tensor: exactly one value each.
void require_scalars(KernelContext& k, std::initializer_list<std::pair<int, const char*>> inputs) {
  for (const auto& [i, what] : inputs)
    if (k.has_input(i) && k.in(i).numel() != 1)
      node_error(k.node, "{} (input {}) must hold one value, got {}", what, i, k.in(i).numel());
}

void reference_conv_integer(KernelContext& k) {
  store_i32(integer_conv(k.node, k.in(0), optional(k, 2), k.in(1), optional(k, 3), k.out(0).dims()), k.out(0));
}

void reference_qlinear_conv(KernelContext& k) {
  const Node& n = k.node;
  require_scalars(k, {{1, "x_scale"}, {2, "x_zero_point"}, {6, "y_scale"}, {7, "y_zero_point"}, {10, "residual scale"},
                      {11, "residual zero point"}});
  const Dims& y = k.out(0).dims();
  std::vector<int64_t> acc = integer_conv(n, k.in(0), &k.in(2), k.in(3), &k.in(5), y);
  const int64_t spatial = product(std::span(y).subspan(2));
  for (int i : {4, 5})
    if (k.in(i).numel() != 1 && k.in(i).numel() != y[1])
      node_error(n, "{} has {} values for {} output channels", i == 4 ? "w_scale" : "w_zero_point", k.in(i).numel(), y[1]);
  if (k.has_input(8)) {
    if (k.in(8).numel() != y[1]) node_error(n, "bias has {} values for {} output channels", k.in(8).numel(), y[1]);
    for (size_t i = 0; i < acc.size(); ++i) acc[i] += k.in(8).get_int((int64_t(i) / spatial) % y[1]);
  }
  const Requantizer r = Requantizer::of(n, float(k.in(1).get_double(0)), k.in(4), float(k.in(6).get_double(0)),
                                        int32_t(k.in(7).get_int(0)), k.out(0).dtype(), optional(k, 10), optional(k, 11));
  const Tensor* residual = optional(k, 9);
  Tensor& out = k.out(0);
  for (size_t i = 0; i < acc.size(); ++i) {
    // An exact sum that overflows int32 is outside what 8-bit inputs and an i32 bias can give.
    const int32_t a = int32_t(std::clamp<int64_t>(acc[i], INT32_MIN, INT32_MAX));
    const int64_t m = (int64_t(i) / spatial) % y[1];
    const int32_t q = r.apply(a, m, residual ? int32_t(residual->get_int(int64_t(i))) : 0);
    if (out.dtype() == DType::U8) out.data<uint8_t>()[i] = uint8_t(q);
    else out.data<int8_t>()[i] = int8_t(q);
  }
}

void reference_matmul_integer(KernelContext& k) {
  store_i32(integer_matmul(k.in(0), optional(k, 2), k.in(1), optional(k, 3), k.out(0).dims()), k.out(0));
}

void reference_qlinear_matmul(KernelContext& k) {
  require_scalars(k, {{1, "a_scale"}, {2, "a_zero_point"}, {6, "y_scale"}, {7, "y_zero_point"}});
  // As Requantizer::of checks for QLinearConv: other scales make the rounding meaningless (NaN).
  for (const auto& [i, what] : {std::pair{1, "a_scale"}, std::pair{4, "b_scale"}, std::pair{6, "y_scale"}})
    for (int64_t e = 0; e < k.in(i).numel(); ++e)
      if (const double v = k.in(i).get_double(e); !(v > 0) || !std::isfinite(v))
        node_error(k.node, "{} = {} must be positive and finite", what, v);
  double a_scale = k.in(1).get_double(0);
  std::vector<int64_t> acc;
  if (log2_coded(k.node)) {
    // 2^−c = 2^(31−c) · 2^−31: integers, and B's sum of shifts, exactly.
    const Tensor& codes = k.in(0);
    Tensor powers(DType::I64, codes.dims());
    for (int64_t i = 0; i < codes.numel(); ++i) {
      const int code = codes.data<uint8_t>()[i];
      powers.data<int64_t>()[i] = code <= 31 ? int64_t(1) << (31 - code) : 0;
    }
    acc = integer_matmul(powers, nullptr, k.in(3), &k.in(5), k.out(0).dims());
    a_scale = std::ldexp(a_scale, -31);
  } else {
    acc = integer_matmul(k.in(0), &k.in(2), k.in(3), &k.in(5), k.out(0).dims());
  }
  if (k.has_input(8)) {
    const Tensor& bias = k.in(8);
    const int64_t columns = k.out(0).rank() == 0 ? 1 : k.out(0).dims().back();
    for (size_t i = 0; i < acc.size(); ++i) acc[i] += bias.get_int(bias.numel() == 1 ? 0 : int64_t(i) % columns);
  }
  requantize(acc, a_scale, k.in(4), 1, k.in(6), k.in(7), k.out(0));
}

std::vector<AttrSpec> conv_attrs() {
  return {AttrSpec{"auto_pad", AttrType::String, std::string("NOTSET")},
          AttrSpec{.name = "dilations", .type = AttrType::Ints, .optional = true},
          AttrSpec{"group", AttrType::Int, int64_t{1}},
          AttrSpec{.name = "kernel_shape", .type = AttrType::Ints, .optional = true},
          AttrSpec{.name = "pads", .type = AttrType::Ints, .optional = true},
          AttrSpec{.name = "strides", .type = AttrType::Ints, .optional = true}};
}

std::vector<AttrSpec> qlinear_conv_attrs() {
  std::vector<AttrSpec> attrs = with_epilogue_attrs(conv_attrs());
  attrs.push_back(AttrSpec{.name = "residual_after_act", .type = AttrType::Int, .optional = true});
  attrs.push_back(AttrSpec{.name = "requantize", .type = AttrType::String, .optional = true});
  return attrs;
}

}  // namespace

extern const OpDef kConvInteger{.kind = OpKind::ConvInteger, .onnx_name = "ConvInteger", .min_inputs = 2, .max_inputs = 4,
                                .attrs = conv_attrs(), .infer = infer_conv_integer, .reference = reference_conv_integer};
extern const OpDef kMatMulInteger{.kind = OpKind::MatMulInteger, .onnx_name = "MatMulInteger", .min_inputs = 2,
                                  .max_inputs = 4, .infer = infer_matmul_integer, .reference = reference_matmul_integer};
extern const OpDef kQLinearConv{.kind = OpKind::QLinearConv, .onnx_name = "QLinearConv", .min_inputs = 8, .max_inputs = 12,
                                .attrs = qlinear_conv_attrs(), .infer = infer_qlinear_conv, .reference = reference_qlinear_conv};
// QLinearMatMul's 9th input is nnc's i32 bias per column.
extern const OpDef kQLinearMatMul{.kind = OpKind::QLinearMatMul, .onnx_name = "QLinearMatMul", .min_inputs = 8,
                                  .max_inputs = 9,
                                  .attrs = {AttrSpec{.name = "a_encoding", .type = AttrType::String, .optional = true}},
                                  .infer = infer_qlinear_matmul, .reference = reference_qlinear_matmul};

}  // namespace nnc
