// ops/quantize.cpp — QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear: the affine int8
// scheme nnc's INT8 path builds on. ONNX opsets 10, 13 (per-axis). https://onnx.ai/onnx/operators/onnx__QuantizeLinear.html
//
//   q = saturate(round_half_to_even(x / scale) + zero_point)      x = (q − zero_point) · scale
// scale and zero_point are scalars (per tensor) or 1-D along `axis` (per channel). The
// zero point's type is the quantized type (u8 when absent). DynamicQuantizeLinear picks a u8
// scale and zero point from the data's range (which always includes 0).
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

// The scale/zero-point index of element i: 0 per tensor, its coordinate along axis per channel.
struct Broadcast {
  int64_t inner = 1, count = 1;
  int64_t of(int64_t i) const { return count == 1 ? 0 : (i / inner) % count; }
};

Broadcast param_broadcast(const Node& n, const Dims& x, const Tensor& scale, int input) {
  if (scale.numel() == 1 && scale.rank() <= 1) return {};
  if (scale.rank() != 1) node_error(n, "input {} must be a scalar or 1-D, got rank {}", input, scale.rank());
  const int axis = normalize_axis(n, attr_int(n, "axis"), int(x.size()));
  if (scale.numel() != x[size_t(axis)])
    node_error(n, "input {} has {} values but axis {} has {}", input, scale.numel(), axis, x[size_t(axis)]);
  return {product(std::span(x).subspan(size_t(axis) + 1)), scale.numel()};
}

std::vector<TensorType> infer_quantize(InferContext& c) {
  const Node& n = c.node;
  if (!is_float(c.in(0).dtype) && c.in(0).dtype != DType::I32)
    node_error(n, "input has type {}; QuantizeLinear takes float or i32", dtype_name(c.in(0).dtype));
  const DType q = c.has_input(2) ? c.in(2).dtype : DType::U8;
  if (q != DType::U8 && q != DType::I8) node_error(n, "zero point has type {}; nnc quantizes to u8 or i8", dtype_name(q));
  return {TensorType{q, c.in(0).shape}};
}

template <typename Q>
void quantize(const Tensor& x, const Tensor& scale, const Tensor* zero, const Broadcast& bc, Tensor& y) {
  Q* out = y.data<Q>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t p = bc.of(i);
    const double s = scale.get_double(p);
    const double z = zero ? zero->get_double(p) : 0.0;
    // f32 divides in f32, as ONNX's reference does: a double quotient can round the other way
    // at exactly .5.
    const double ratio = x.dtype() == DType::F32 ? double(float(x.get_double(i)) / float(s)) : x.get_double(i) / s;
    // Default rounding: half to even. NaN (a NaN input, or 0/0) has no integer value and its
    // plain conversion is undefined; it saturates low, as the vectorised tactic's max does
    // (found by tests/fuzz).
    const double lowest = double(std::numeric_limits<Q>::min());
    const double q = std::isnan(ratio) ? lowest : std::nearbyint(ratio) + z;
    out[i] = Q(std::clamp(q, lowest, double(std::numeric_limits<Q>::max())));
  }
}

void reference_quantize(KernelContext& k) {
  const Tensor& x = k.in(0);
  const Tensor& scale = k.in(1);
  const Tensor* zero = k.has_input(2) ? &k.in(2) : nullptr;
  const Broadcast bc = param_broadcast(k.node, x.dims(), scale, 1);
  if (zero && zero->numel() != scale.numel()) node_error(k.node, "zero point has {} values but scale has {}", zero->numel(), scale.numel());
  if (k.out(0).dtype() == DType::U8) quantize<uint8_t>(x, scale, zero, bc, k.out(0));
  else quantize<int8_t>(x, scale, zero, bc, k.out(0));
}

std::vector<TensorType> infer_dequantize(InferContext& c) {
  const DType q = c.in(0).dtype;
  if (q != DType::U8 && q != DType::I8 && q != DType::I32)
    node_error(c.node, "input has type {}; DequantizeLinear takes u8, i8 or i32", dtype_name(q));
  if (c.has_input(2) && c.in(2).dtype != q)
    node_error(c.node, "zero point has type {} but the input is {}", dtype_name(c.in(2).dtype), dtype_name(q));
  return {TensorType{c.in(1).dtype, c.in(0).shape}};
}

void reference_dequantize(KernelContext& k) {
  const Tensor& x = k.in(0);
  const Tensor& scale = k.in(1);
  const Tensor* zero = k.has_input(2) ? &k.in(2) : nullptr;
  const Broadcast bc = param_broadcast(k.node, x.dims(), scale, 1);
  if (zero && zero->numel() != scale.numel()) node_error(k.node, "zero point has {} values but scale has {}", zero->numel(), scale.numel());
  Tensor& y = k.out(0);
  visit_dtype(y.dtype(), [&]<typename T>() {
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t p = bc.of(i);
      y.data<T>()[i] = from_double<T>((x.get_double(i) - (zero ? zero->get_double(p) : 0.0)) * scale.get_double(p));
    }
  });
}

std::vector<TensorType> infer_dynamic(InferContext& c) {
  if (c.in(0).dtype != DType::F32) node_error(c.node, "input has type {}; DynamicQuantizeLinear takes f32", dtype_name(c.in(0).dtype));
  return {TensorType{DType::U8, c.in(0).shape}, TensorType{DType::F32, Shape(Dims{})}, TensorType{DType::U8, Shape(Dims{})}};
}

// Saturating float -> u8 (round to nearest even happened before); NaN, which has no u8 value
// and whose plain conversion is undefined, gives 0 (found by tests/fuzz).
uint8_t saturate_u8(float v) { return std::isnan(v) ? uint8_t(0) : uint8_t(std::clamp(v, 0.0f, 255.0f)); }

void reference_dynamic(KernelContext& k) {
  const Tensor& x = k.in(0);
  const float* in = x.data<float>();
  float low = 0, high = 0;  // the range always includes 0, so 0 is exactly representable
  for (int64_t i = 0; i < x.numel(); ++i) low = std::min(low, in[i]), high = std::max(high, in[i]);
  const float scale = (high - low) / 255.0f;
  const uint8_t zero = scale == 0 ? 0 : saturate_u8(std::nearbyint(-low / scale));
  k.out(1).data<float>()[0] = scale;
  k.out(2).data<uint8_t>()[0] = zero;
  uint8_t* out = k.out(0).data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i)
    out[i] = scale == 0 ? zero : saturate_u8(std::nearbyint(in[i] / scale) + float(zero));
}

}  // namespace

extern const OpDef kQuantizeLinear{.kind = OpKind::QuantizeLinear,
                                   .onnx_name = "QuantizeLinear",
                                   .min_inputs = 2,
                                   .max_inputs = 3,
                                   .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{1}}},
                                   .infer = infer_quantize,
                                   .reference = reference_quantize};
extern const OpDef kDequantizeLinear{.kind = OpKind::DequantizeLinear,
                                     .onnx_name = "DequantizeLinear",
                                     .min_inputs = 2,
                                     .max_inputs = 3,
                                     .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{1}}},
                                     .infer = infer_dequantize,
                                     .reference = reference_dequantize};
extern const OpDef kDynamicQuantizeLinear{.kind = OpKind::DynamicQuantizeLinear,
                                          .onnx_name = "DynamicQuantizeLinear",
                                          .min_outputs = 3,
                                          .max_outputs = 3,
                                          .infer = infer_dynamic,
                                          .reference = reference_dynamic};

}  // namespace nnc
