// QLinearConv with nnc's fused epilogue (ops/requantize.h) against a float reference written
// out here in double precision: dequantize the inputs, convolve, add the bias and the residual,
// apply the activation, quantize once. Both arithmetic paths ("float" and integer-only "fixed")
// must land within one step of it, and nearly always on it.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "ops/interpreter.h"
#include "ops/requantize.h"

using namespace nnc;

namespace {

struct Setup {
  int64_t channels = 6, maps = 5, size = 9;
  float x_scale = 0.03f, y_scale = 0.05f, r_scale = 0.04f;
  int x_zero = 120, y_zero = 60, r_zero = 10;
  std::vector<float> w_scale;
  Tensor x, w, bias, r;
};

Setup make_setup(std::mt19937& rng) {
  Setup s;
  std::uniform_int_distribution<int> byte(0, 255), weight(-127, 127), b(-400, 400);
  std::uniform_real_distribution<float> scale(0.002f, 0.01f);
  s.x = Tensor(DType::U8, Dims{1, s.channels, s.size, s.size});
  s.r = Tensor(DType::U8, Dims{1, s.maps, s.size, s.size});
  s.w = Tensor(DType::I8, Dims{s.maps, s.channels, 3, 3});
  s.bias = Tensor(DType::I32, Dims{s.maps});
  for (int64_t i = 0; i < s.x.numel(); ++i) s.x.data<uint8_t>()[i] = uint8_t(byte(rng));
  for (int64_t i = 0; i < s.r.numel(); ++i) s.r.data<uint8_t>()[i] = uint8_t(byte(rng));
  for (int64_t i = 0; i < s.w.numel(); ++i) s.w.data<int8_t>()[i] = int8_t(weight(rng));
  for (int64_t m = 0; m < s.maps; ++m) s.bias.data<int32_t>()[m] = b(rng), s.w_scale.push_back(scale(rng));
  return s;
}

Tensor scalar(DType t, double v) {
  Tensor out(t, Dims{});
  if (t == DType::F32) out.data<float>()[0] = float(v);
  else out.data<uint8_t>()[0] = uint8_t(v);
  return out;
}

// The float reference: y = act(conv(x) + bias [+ r]) [+ r], quantized with round-half-even.
std::vector<int> float_reference(const Setup& s, const std::string& act, bool residual, bool after) {
  std::vector<int> out;
  for (int64_t m = 0; m < s.maps; ++m)
    for (int64_t oy = 0; oy < s.size; ++oy)
      for (int64_t ox = 0; ox < s.size; ++ox) {
        const double unit = double(s.x_scale) * double(s.w_scale[size_t(m)]);
        double v = s.bias.data<int32_t>()[m] * unit;
        for (int64_t c = 0; c < s.channels; ++c)
          for (int64_t ky = 0; ky < 3; ++ky)
            for (int64_t kx = 0; kx < 3; ++kx) {
              const int64_t iy = oy + ky - 1, ix = ox + kx - 1;
              if (iy < 0 || ix < 0 || iy >= s.size || ix >= s.size) continue;
              const double xv = (s.x.data<uint8_t>()[(c * s.size + iy) * s.size + ix] - s.x_zero) * double(s.x_scale);
              v += xv * s.w.data<int8_t>()[((m * s.channels + c) * 3 + ky) * 3 + kx] * double(s.w_scale[size_t(m)]);
            }
        const double r = residual ? (s.r.data<uint8_t>()[(m * s.size + oy) * s.size + ox] - s.r_zero) * double(s.r_scale) : 0;
        if (!after) v += r;
        if (act == "Relu") v = std::max(v, 0.0);
        if (act == "Clip") v = std::clamp(v, -0.5, 2.0);
        if (after) v += r;
        out.push_back(int(std::clamp(std::nearbyint(v / s.y_scale) + s.y_zero, 0.0, 255.0)));
      }
  return out;
}

std::vector<int> run_qlinear_conv(const Setup& s, const std::string& act, bool residual, bool after, bool fixed) {
  Node n;
  n.op = OpKind::QLinearConv;
  n.name = "conv";
  n.attrs = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  if (!act.empty()) n.attrs.push_back({"act", act});
  if (act == "Clip") n.attrs.push_back({"act_params", std::vector<float>{-0.5f, 2.0f}});
  if (after) n.attrs.push_back({"residual_after_act", int64_t{1}});
  if (fixed) n.attrs.push_back({"requantize", std::string("fixed")});
  Tensor w_scale(DType::F32, Dims{s.maps});
  for (int64_t m = 0; m < s.maps; ++m) w_scale.data<float>()[m] = s.w_scale[size_t(m)];
  const Tensor xs = scalar(DType::F32, s.x_scale), xz = scalar(DType::U8, s.x_zero), wz(DType::I8, Dims{s.maps});
  const Tensor ys = scalar(DType::F32, s.y_scale), yz = scalar(DType::U8, s.y_zero);
  const Tensor rs = scalar(DType::F32, s.r_scale), rz = scalar(DType::U8, s.r_zero);
  std::vector<const Tensor*> inputs = {&s.x, &xs, &xz, &s.w, &w_scale, &wz, &ys, &yz, &s.bias};
  if (residual) inputs.insert(inputs.end(), {&s.r, &rs, &rz});
  n.inputs.assign(inputs.size(), 0);
  n.outputs = {0};
  const std::vector<Tensor> y = run_node(n, inputs, 17);
  std::vector<int> out;
  for (int64_t i = 0; i < y[0].numel(); ++i) out.push_back(y[0].data<uint8_t>()[i]);
  return out;
}

}  // namespace

TEST_CASE("QLinearConv's float and fixed-point epilogues agree with a float reference") {
  std::mt19937 rng(2026);
  const Setup s = make_setup(rng);
  struct Variant {
    std::string act;
    bool residual, after;
  };
  for (const Variant& v : {Variant{"", false, false}, Variant{"Relu", false, false}, Variant{"Clip", false, false},
                           Variant{"Relu", true, false}, Variant{"Relu", true, true}, Variant{"Clip", true, true}}) {
    const std::vector<int> want = float_reference(s, v.act, v.residual, v.after);
    int distinct = 0;
    for (int q = 0; q < 256; ++q) distinct += std::count(want.begin(), want.end(), q) > 0;
    CHECK(distinct > 30);  // the case spreads over the byte range (not all clamped)
    for (bool fixed : {false, true}) {
      CAPTURE(v.act);
      CAPTURE(v.residual);
      CAPTURE(v.after);
      CAPTURE(fixed);
      const std::vector<int> got = run_qlinear_conv(s, v.act, v.residual, v.after, fixed);
      REQUIRE(got.size() == want.size());
      int off_by_one = 0, worse = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        const int d = std::abs(got[i] - want[i]);
        off_by_one += d == 1;
        worse += d > 1;
      }
      CHECK(worse == 0);
      CHECK(off_by_one * 50 <= int(got.size()));  // at most 2%: only ties and f32 rounding
    }
  }
}

TEST_CASE("fixed-point ratios keep 30 bits of the ratio and round like the reference") {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> exponent(-20, 4);
  for (int i = 0; i < 1000; ++i) {
    const double ratio = std::exp2(exponent(rng));
    const FixedPointRatio f = FixedPointRatio::of(ratio);
    CHECK(f.multiplier >= (1 << 30));
    CHECK(std::fabs(double(f.multiplier) * std::exp2(-f.shift) / ratio - 1) < 1e-9);
    const int64_t x = int64_t(rng() % 2000000) - 1000000;
    CHECK(std::fabs(double(f.apply_q16(x)) - double(x) * ratio * 65536) <= 1.0 + std::fabs(double(x) * ratio * 65536) * 1e-9);
  }
  CHECK(FixedPointRatio::of(0).multiplier == 0);
}

TEST_CASE("QLinearConv's epilogue refuses activations it cannot apply to integers") {
  std::mt19937 rng(1);
  const Setup s = make_setup(rng);
  CHECK_THROWS_WITH_AS(run_qlinear_conv(s, "Sigmoid", false, false, false), doctest::Contains("only Relu and Clip"), Error);
}

TEST_CASE("QLinearConv refuses malformed scales and zero points with a message, not a crash") {
  std::mt19937 rng(4);
  const Setup s = make_setup(rng);
  Node n;
  n.op = OpKind::QLinearConv;
  n.name = "conv";
  n.attrs = {{"pads", std::vector<int64_t>{1, 1, 1, 1}}};
  Tensor w_scale(DType::F32, Dims{s.maps});
  for (int64_t m = 0; m < s.maps; ++m) w_scale.data<float>()[m] = 0.01f;
  const Tensor empty_scale(DType::F32, Dims{0}), xz = scalar(DType::U8, 1), wz(DType::I8, Dims{s.maps});
  const Tensor ys = scalar(DType::F32, 0.1), yz = scalar(DType::U8, 0), three_zeros(DType::I8, Dims{3});
  std::vector<const Tensor*> inputs = {&s.x, &empty_scale, &xz, &s.w, &w_scale, &wz, &ys, &yz, &s.bias};
  n.inputs.assign(inputs.size(), 0);
  n.outputs = {0};
  CHECK_THROWS_WITH_AS(run_node(n, inputs, 17), doctest::Contains("x_scale (input 1) must hold one value, got 0"), Error);
  const Tensor xs = scalar(DType::F32, 0.1);
  inputs[1] = &xs;
  inputs[5] = &three_zeros;  // 3 zero points for 5 output channels
  CHECK_THROWS_WITH_AS(run_node(n, inputs, 17), doctest::Contains("w_zero_point has 3 values for 5 output channels"), Error);
  const Tensor signed_zero(DType::I8, Dims{});
  inputs[5] = &wz;
  inputs[2] = &signed_zero;  // an i8 zero point for a u8 input
  CHECK_THROWS_WITH_AS(run_node(n, inputs, 17), doctest::Contains("zero points must have their tensor's type"), Error);
}
