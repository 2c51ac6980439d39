// ops/requantize.cpp — see requantize.h.
#include "ops/requantize.h"

#include <cmath>

#include "ops/epilogue.h"

namespace nnc {

FixedPointRatio FixedPointRatio::of(double ratio) {
  if (ratio <= 0) return {};
  int exponent = 0;
  const double mantissa = std::frexp(ratio, &exponent);  // ratio = mantissa · 2^exponent, mantissa in [0.5, 1)
  int64_t m = std::llround(mantissa * double(int64_t{1} << 31));
  if (m == int64_t{1} << 31) m /= 2, ++exponent;
  return {int32_t(m), 31 - exponent};
}

int64_t FixedPointRatio::apply_q16(int64_t x) const {
  const int64_t product = x * multiplier;  // |x| < 2^31, multiplier < 2^31: fits in int64
  const int s = shift - 16;
  if (s <= 0) return product << -s;  // ratios above 2^15 (never seen in practice)
  return (product + (int64_t{1} << (s - 1))) >> s;
}

Requantizer Requantizer::of(const Node& n, float x_scale, const Tensor& w_scale, float y_scale, int32_t y_zero,
                            DType y_type, const Tensor* r_scale, const Tensor* r_zero) {
  Requantizer r;
  const std::string mode = n.has_attr("requantize") ? attr_string(n, "requantize") : "float";
  if (mode != "float" && mode != "fixed") node_error(n, "requantize='{}' must be \"float\" or \"fixed\"", mode);
  r.fixed_point = mode == "fixed";
  if (!(y_scale > 0) || !std::isfinite(y_scale)) node_error(n, "y_scale = {} must be positive and finite", y_scale);
  if (!(x_scale > 0) || !std::isfinite(x_scale)) node_error(n, "x_scale = {} must be positive and finite", x_scale);
  for (int64_t m = 0; m < w_scale.numel(); ++m) {
    const float ws = float(w_scale.get_double(m));
    if (!(ws >= 0) || !std::isfinite(ws)) node_error(n, "w_scale[{}] = {} must be non-negative and finite", m, ws);
    r.multiplier.push_back(x_scale * ws / y_scale);
    r.fixed.push_back(FixedPointRatio::of(double(x_scale) * double(ws) / double(y_scale)));
  }
  r.y_zero = y_zero;
  r.y_low = y_type == DType::U8 ? 0 : -128;
  r.y_high = y_type == DType::U8 ? 255 : 127;
  const Activation act = Activation::of(n);
  if (act.kind == Activation::Kind::Relu) {
    r.relu = true;
  } else if (act.kind == Activation::Kind::Clip) {
    r.clip = true;
    r.act_low = act.p0 / y_scale;
    r.act_high = act.p1 / y_scale;
    r.act_low_q16 = std::llround(double(act.p0) / y_scale * 65536.0);
    r.act_high_q16 = std::llround(double(act.p1) / y_scale * 65536.0);
  } else if (act.kind != Activation::Kind::None) {
    node_error(n, "act='{}': an integer conv fuses only Relu and Clip", attr_string(n, "act"));
  }
  r.residual_after_act = residual_after_activation(n);
  if (r_scale) {
    const float rs = float(r_scale->get_double(0));
    if (!(rs > 0) || !std::isfinite(rs)) node_error(n, "residual scale = {} must be positive and finite", rs);
    r.has_residual = true;
    r.residual_multiplier = rs / y_scale;
    r.residual_fixed = FixedPointRatio::of(double(rs) / double(y_scale));
    r.residual_zero = r_zero ? int32_t(r_zero->get_int(0)) : 0;
  }
  return r;
}

int32_t Requantizer::apply(int32_t acc, int64_t m, int32_t residual) const {
  if (fixed_point) {
    int64_t v = channel_fixed(m).apply_q16(acc);
    const int64_t u = has_residual ? residual_fixed.apply_q16(int64_t(residual) - residual_zero) : 0;
    if (!residual_after_act) v += u;
    if (relu) v = std::max<int64_t>(v, 0);
    if (clip) v = std::clamp(v, act_low_q16, act_high_q16);
    if (residual_after_act) v += u;
    const int64_t q = ((v + 32768) >> 16) + y_zero;
    return int32_t(std::clamp<int64_t>(q, y_low, y_high));
  }
  float v = float(acc) * channel_multiplier(m);
  const float u = has_residual ? float(residual - residual_zero) * residual_multiplier : 0.0f;
  if (!residual_after_act) v += u;
  if (relu) v = std::max(v, 0.0f);
  if (clip) v = std::min(std::max(v, act_low), act_high);
  if (residual_after_act) v += u;
  const float q = std::nearbyint(v) + float(y_zero);
  return int32_t(std::clamp(q, float(y_low), float(y_high)));
}

}  // namespace nnc
