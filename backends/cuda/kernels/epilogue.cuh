// backends/cuda/kernels/epilogue.cuh — what a fused kernel applies before its one write: the
// activation of ops/epilogue.h and, for 8-bit ops, the requantization of ops/requantize.h, with
// the same formulas in the same order (the emulated tests compare them with those references).
#pragma once

#include "backends/cuda/kernels/dialect.cuh"

namespace nnc::cuda {

// ops/epilogue.h's Activation::Kind, by number (backends/cuda/kernel_args.cpp checks they agree).
enum class Act : int { None, Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Silu, Gelu, GeluTanh, Tanh };

struct Activation {
  Act kind = Act::None;
  float p0 = 0, p1 = 0;  // LeakyRelu alpha; Clip min, max; HardSigmoid alpha, beta
};

__device__ __forceinline__ float activate(const Activation& a, float v) {
  switch (a.kind) {
    case Act::None: return v;
    case Act::Relu: return v > 0.0f ? v : 0.0f;
    case Act::LeakyRelu: return v >= 0.0f ? v : v * a.p0;
    case Act::Clip: return fminf(fmaxf(v, a.p0), a.p1);
    case Act::Sigmoid: return 1.0f / (1.0f + expf(-v));
    case Act::HardSigmoid: return fminf(fmaxf(a.p0 * v + a.p1, 0.0f), 1.0f);
    case Act::HardSwish: return v * fminf(fmaxf(v / 6.0f + 0.5f, 0.0f), 1.0f);
    case Act::Silu: return v / (1.0f + expf(-v));
    case Act::Gelu: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case Act::GeluTanh: return 0.5f * v * (1.0f + tanhf(0.79788456080286536f * (v + 0.044715f * v * v * v)));
    case Act::Tanh: return tanhf(v);
  }
  return v;
}

// The f32 epilogue of Conv, Gemm and MatMul: bias, then an optional residual before or after
// the activation. `residual_index` is where this output's residual element lies.
struct FloatEpilogue {
  Activation act;
  const float* residual = nullptr;  // same layout as the op's own output, or null
  bool residual_after_act = false;
};

__device__ __forceinline__ float finish(const FloatEpilogue& e, float v, long long residual_index) {
  if (e.residual && !e.residual_after_act) v += e.residual[residual_index];
  v = activate(e.act, v);
  if (e.residual && e.residual_after_act) v += e.residual[residual_index];
  return v;
}

// ops/requantize.h's Requantizer as plain data the device can read (arrays in device memory).
struct Requantize {
  bool fixed_point = false, has_residual = false, residual_after_act = false, relu = false, clip = false;
  float act_low = 0, act_high = 0;
  long long act_low_q16 = 0, act_high_q16 = 0;
  bool per_channel = false;
  const float* multiplier = nullptr;       // [1 or M]
  const int32_t* fixed_multiplier = nullptr;  // [1 or M]
  const int32_t* fixed_shift = nullptr;       // [1 or M]
  float residual_multiplier = 0;
  int32_t residual_fixed_multiplier = 0, residual_fixed_shift = 0, residual_zero = 0;
  int32_t y_zero = 0, y_low = 0, y_high = 255;
};

// FixedPointRatio::apply_q16: x · ratio with 16 fraction bits, rounded half up.
__device__ __forceinline__ long long apply_q16(long long x, int32_t multiplier, int shift) {
  const long long product = x * multiplier;
  const int s = shift - 16;
  if (s <= 0) return product << -s;
  return (product + (1LL << (s - 1))) >> s;
}

// Requantizer::apply: `acc` with bias and zero-point correction included, `residual` raw.
__device__ __forceinline__ int32_t requantize(const Requantize& q, int32_t acc, int m, int32_t residual) {
  const int c = q.per_channel ? m : 0;
  if (q.fixed_point) {
    long long v = apply_q16(acc, q.fixed_multiplier[c], q.fixed_shift[c]);
    const long long u = q.has_residual ? apply_q16(static_cast<long long>(residual) - q.residual_zero,
                                                   q.residual_fixed_multiplier, q.residual_fixed_shift)
                                       : 0;
    if (!q.residual_after_act) v += u;
    if (q.relu && v < 0) v = 0;
    if (q.clip) v = v < q.act_low_q16 ? q.act_low_q16 : (v > q.act_high_q16 ? q.act_high_q16 : v);
    if (q.residual_after_act) v += u;
    long long r = ((v + 32768) >> 16) + q.y_zero;
    r = r < q.y_low ? q.y_low : (r > q.y_high ? q.y_high : r);
    return int32_t(r);
  }
  float v = mul_rn(float(acc), q.multiplier[c]);
  const float u = q.has_residual ? mul_rn(float(residual - q.residual_zero), q.residual_multiplier) : 0.0f;
  if (!q.residual_after_act) v = add_rn(v, u);
  if (q.relu) v = fmaxf(v, 0.0f);
  if (q.clip) v = fminf(fmaxf(v, q.act_low), q.act_high);
  if (q.residual_after_act) v = add_rn(v, u);
  float r = add_rn(nearbyintf(v), float(q.y_zero));
  r = fminf(fmaxf(r, float(q.y_low)), float(q.y_high));
  return int32_t(r);
}

}  // namespace nnc::cuda
