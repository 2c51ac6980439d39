// ops/requantize.h — how an integer Conv turns its int32 accumulators into 8-bit outputs.
//
// nnc's QLinearConv (ops/quantized_linear.cpp) extends ONNX's with a fused epilogue: an
// activation (`act` = Relu or Clip), a quantized residual (inputs 9-11: r, r_scale, r_zero_point)
// added before the activation or after it (`residual_after_act`), and a choice of arithmetic
// (`requantize` = "float" or "fixed"). Everything is applied before the one final rounding:
//
//   v = acc · (x_scale · w_scale[m] / y_scale)                 conv term, in units of y_scale
//   u = (r − r_zero) · (r_scale / y_scale)                     residual term
//   y = saturate(round(act(v + u)) + y_zero)     or  saturate(round(act(v) + u) + y_zero)
//
// "float" computes v and u in f32 (the ratios rounded to f32 once) and rounds half to even,
// as ONNX Runtime does. "fixed" is integer only: each ratio is an int32 multiplier in
// [2^30, 2^31) and a right shift; the terms are kept with 16 fraction bits, summed, clamped by
// the activation and rounded half up. The reference kernel and every fast kernel go through
// this one decoder, so they compute bit-identical results.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "ops/op_def.h"

namespace nnc {

// ratio ≈ multiplier · 2^-shift with multiplier in [2^30, 2^31) (0 for a zero ratio).
struct FixedPointRatio {
  int32_t multiplier = 0;
  int shift = 0;
  static FixedPointRatio of(double ratio);
  // x · ratio with 16 fraction bits, rounded half up.
  int64_t apply_q16(int64_t x) const;
};

struct Requantizer {
  bool fixed_point = false;
  bool has_residual = false;
  bool residual_after_act = false;
  bool relu = false, clip = false;  // the activation, in y_scale units below
  float act_low = 0, act_high = 0;
  int64_t act_low_q16 = 0, act_high_q16 = 0;
  std::vector<float> multiplier;             // per output channel (1 entry: per tensor)
  std::vector<FixedPointRatio> fixed;        // the same, fixed point
  float residual_multiplier = 0;
  FixedPointRatio residual_fixed;
  int32_t residual_zero = 0;
  int32_t y_zero = 0;
  int32_t y_low = 0, y_high = 255;           // the output type's range

  // Decodes node `n` (a QLinearConv with its scale/zero-point inputs given as tensors).
  // Throws naming the node for activations other than Relu/Clip and non-positive scales.
  static Requantizer of(const Node& n, float x_scale, const Tensor& w_scale, float y_scale, int32_t y_zero, DType y_type,
                        const Tensor* r_scale, const Tensor* r_zero);

  float channel_multiplier(int64_t m) const { return multiplier.size() == 1 ? multiplier[0] : multiplier[size_t(m)]; }
  const FixedPointRatio& channel_fixed(int64_t m) const { return fixed.size() == 1 ? fixed[0] : fixed[size_t(m)]; }

  // One output: `acc` the int32 accumulator (bias included) of channel m, `residual` the raw
  // residual value (ignored without one).
  int32_t apply(int32_t acc, int64_t m, int32_t residual) const;
};

// QLinearMatMul's requantization (ONNX's, without nnc's epilogue): in double, as ONNX Runtime's
// reference does, `scale` being a_scale · b_scale[n]: saturate(round_half_even(acc · scale /
// y_scale) + y_zero) into [low, high]. The reference kernel and the CPU MatMul tactics all call
// this, so they give the same bytes.
inline double requantize_linear(double acc, double scale, double y_scale, double y_zero, double low, double high) {
  return std::clamp(std::nearbyint(acc * scale / y_scale) + y_zero, low, high);
}

}  // namespace nnc
