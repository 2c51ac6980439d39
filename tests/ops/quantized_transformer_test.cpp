// Tests for ops/quantized_transformer.cpp: the integer-only QLayerNorm and QSoftmax against the
// float definitions of LayerNorm and Softmax (written here in double from their formulas, on the
// dequantized inputs), and the error each quantization scheme leaves.
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "ir_test_util.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;
using nnc::testing::scalar_f32;

namespace {

Tensor scalar_u8(int v) { return nnc::testing::scalar_byte(DType::U8, v); }

// A transformer residual stream: rows of `channels` values whose channel c has its own range,
// a few channels ~40x wider than the rest (as FQ-ViT measured in DeiT and Swin).
std::vector<float> residual_stream(int64_t rows, int64_t channels, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(size_t(rows * channels));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < channels; ++c) {
      const float spread = c % 16 == 3 ? 40.0f : (c % 5 == 0 ? 4.0f : 1.0f);
      x[size_t(r * channels + c)] = spread * normal(rng) + 0.1f * float(c % 7);
    }
  return x;
}

// LayerNorm over the last axis, in double, from the definition.
std::vector<double> layer_norm(const std::vector<double>& x, int64_t channels, const std::vector<float>& gamma,
                               const std::vector<float>& beta, double epsilon) {
  std::vector<double> y(x.size());
  for (size_t r = 0; r < x.size() / size_t(channels); ++r) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < channels; ++c) mean += x[r * size_t(channels) + size_t(c)];
    mean /= double(channels);
    for (int64_t c = 0; c < channels; ++c) var += std::pow(x[r * size_t(channels) + size_t(c)] - mean, 2);
    var /= double(channels);
    for (int64_t c = 0; c < channels; ++c) {
      const size_t i = r * size_t(channels) + size_t(c);
      y[i] = (x[i] - mean) / std::sqrt(var + epsilon) * gamma[size_t(c)] + beta[size_t(c)];
    }
  }
  return y;
}

struct LayerNormRun {
  std::vector<double> dequantized_input, output;  // the input the kernel saw; its output, dequantized
};

// Quantizes `x` (per channel scales `scales`, one zero point), runs QLayerNorm, dequantizes.
LayerNormRun run_qlayernorm(const std::vector<float>& x, int64_t channels, const std::vector<float>& scales, int zero,
                            const std::vector<float>& gamma, const std::vector<float>& beta, float y_scale, int y_zero) {
  const int64_t rows = int64_t(x.size()) / channels;
  Tensor xq(DType::U8, Dims{rows, channels});
  LayerNormRun run;
  for (size_t i = 0; i < x.size(); ++i) {
    const float s = scales.size() == 1 ? scales[0] : scales[i % size_t(channels)];
    const float q = std::clamp(std::nearbyint(x[i] / s) + float(zero), 0.0f, 255.0f);
    xq.data<uint8_t>()[i] = uint8_t(q);
    run.dequantized_input.push_back((double(q) - zero) * s);
  }
  Graph g;
  const ValueId in = g.add_input("x", TensorType{DType::U8, Shape(Dims{rows, channels})});
  const ValueId y = g.add_value("y");
  Tensor scale_tensor = scales.size() == 1 ? scalar_f32(scales[0]) : Tensor::from_vector(Dims{channels}, scales);
  g.add_node(OpKind::QLayerNorm, "ln",
             {in, g.add_const("x_scale", scale_tensor), g.add_const("x_zero", scalar_u8(zero)),
              g.add_const("gamma", Tensor::from_vector(Dims{channels}, gamma)),
              g.add_const("beta", Tensor::from_vector(Dims{channels}, beta)), g.add_const("y_scale", scalar_f32(y_scale)),
              g.add_const("y_zero", scalar_u8(y_zero))},
             {y});
  g.outputs = {y};
  infer_types(g);
  const Tensor out = run_reference(g, std::vector<Tensor>{xq})[0];
  for (int64_t i = 0; i < out.numel(); ++i) run.output.push_back((double(out.data<uint8_t>()[i]) - y_zero) * y_scale);
  return run;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

// Over the narrow channels of residual_stream (those not 4x or 40x wider).
double relative_l2_narrow(const std::vector<double>& out, const std::vector<double>& ref, int64_t channels) {
  double err = 0, norm = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t c = int64_t(i) % channels;
    if (c % 16 == 3 || c % 5 == 0) continue;
    err += std::pow(out[i] - ref[i], 2), norm += ref[i] * ref[i];
  }
  return std::sqrt(err / norm);
}

// The power-of-two factors FQ-ViT's PTF picks for these per-channel ranges: the smallest α in 0..3
// whose range covers the channel (scale = base · 2^α).
std::vector<float> ptf_scales(const std::vector<float>& x, int64_t channels, float& base, int& zero) {
  std::vector<float> low(size_t(channels), 0.0f), high(size_t(channels), 0.0f);
  for (size_t i = 0; i < x.size(); ++i) {
    low[i % size_t(channels)] = std::min(low[i % size_t(channels)], x[i]);
    high[i % size_t(channels)] = std::max(high[i % size_t(channels)], x[i]);
  }
  const float lo = *std::min_element(low.begin(), low.end()), hi = *std::max_element(high.begin(), high.end());
  const float top = (hi - lo) / 255.0f;
  base = top / 8.0f;
  zero = int(std::clamp(std::nearbyint(-lo / top), 0.0f, 255.0f));
  std::vector<float> scales(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    int alpha = 0;
    while (alpha < 3 && (high[size_t(c)] > (255 - zero) * base * float(1 << alpha) || low[size_t(c)] < -zero * base * float(1 << alpha)))
      ++alpha;
    scales[size_t(c)] = base * float(1 << alpha);
  }
  return scales;
}

}  // namespace

TEST_CASE("QLayerNorm: integer-only LayerNorm is float LayerNorm of its dequantized input, within one output step") {
  std::mt19937 rng(11);
  const int64_t channels = 96;
  const std::vector<float> x = residual_stream(24, channels, rng);
  std::vector<float> gamma(static_cast<size_t>(channels)), beta(static_cast<size_t>(channels));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t c = 0; c < channels; ++c) gamma[size_t(c)] = 1.0f + 0.5f * u(rng), beta[size_t(c)] = 0.3f * u(rng);
  // The output step covers the outputs' range (the wide channels normalize to ±15).
  const std::vector<double> exact = layer_norm(std::vector<double>(x.begin(), x.end()), channels, gamma, beta, 1e-5);
  double widest = 0;
  for (double v : exact) widest = std::max(widest, std::fabs(v));
  const float y_scale = float(widest * 1.05 / 127);
  // Per tensor, and per channel with power-of-two factors: the statistics are exact integers
  // and the square root is exact to the unit, so what remains is the output's own rounding.
  float base = 0;
  int zero = 0;
  const std::vector<float> ptf = ptf_scales(x, channels, base, zero);
  for (const std::vector<float>& scales : {std::vector<float>{ptf.back() * 8}, ptf}) {
    const LayerNormRun run = run_qlayernorm(x, channels, scales, zero, gamma, beta, y_scale, 128);
    const std::vector<double> ref = layer_norm(run.dequantized_input, channels, gamma, beta, 1e-5);
    CHECK(max_abs_difference(run.output, ref) <= 0.51 * y_scale + 1e-6);
  }
}

TEST_CASE("QLayerNorm: power-of-two factors recover the narrow channels that one per-tensor scale erases") {
  std::mt19937 rng(5);
  const int64_t channels = 128;
  const std::vector<float> x = residual_stream(32, channels, rng);
  // As in trained ViTs, gamma scales the outlier channels down (the outputs share one range).
  std::vector<float> gamma, beta(size_t(channels), 0.0f);
  for (int64_t c = 0; c < channels; ++c) gamma.push_back(c % 16 == 3 ? 0.25f : (c % 5 == 0 ? 2.5f : 10.0f));
  std::vector<double> exact(x.begin(), x.end());
  const std::vector<double> ref = layer_norm(exact, channels, gamma, beta, 1e-5);
  float base = 0;
  int zero = 0;
  const std::vector<float> ptf = ptf_scales(x, channels, base, zero);
  int widened = 0;
  for (float s : ptf) widened += s > base;
  CHECK(widened > 0);
  CHECK(widened < channels / 2);
  double widest = 0;
  for (double v : ref) widest = std::max(widest, std::fabs(v));
  const float y_scale = float(widest / 127);
  const double per_tensor = relative_l2_narrow(run_qlayernorm(x, channels, {base * 8}, zero, gamma, beta, y_scale, 128).output, ref, channels);
  const double with_ptf = relative_l2_narrow(run_qlayernorm(x, channels, ptf, zero, gamma, beta, y_scale, 128).output, ref, channels);
  MESSAGE("LayerNorm output rel L2 against f32 on the narrow channels: per-tensor u8 ", per_tensor, ", PTF ", with_ptf);
  // Per tensor, the narrow channels get 2-3 levels; with PTF eight times as many.
  CHECK(per_tensor > 0.1);
  CHECK(with_ptf < per_tensor / 3);
}

TEST_CASE("QLayerNorm: refuses scales that are not power-of-two multiples, and names the channel") {
  std::mt19937 rng(1);
  const std::vector<float> x = residual_stream(2, 8, rng);
  const std::vector<float> ones(8, 1.0f), zeros(8, 0.0f);
  std::vector<float> scales(8, 0.1f);
  scales[5] = 0.3f;
  CHECK_THROWS_WITH_AS(run_qlayernorm(x, 8, scales, 128, ones, zeros, 0.05f, 128),
                       doctest::Contains("x_scale[5]"), Error);
}

namespace {

struct SoftmaxRun {
  std::vector<double> probabilities;  // float softmax of the dequantized input
  Tensor codes;
};

SoftmaxRun run_qsoftmax(int64_t rows, int64_t length, float x_scale, int x_zero, const std::string& output, float y_scale,
                        std::mt19937& rng) {
  Tensor xq(DType::U8, Dims{rows, length});
  std::normal_distribution<float> normal(0.0f, 1.0f);
  SoftmaxRun run;
  for (int64_t r = 0; r < rows; ++r) {
    // Attention scores: a few large ones over a spread of small ones.
    std::vector<double> row;
    for (int64_t j = 0; j < length; ++j) {
      const float score = 2.0f * normal(rng) + (j % 11 == 0 ? 4.0f : 0.0f);
      const float q = std::clamp(std::nearbyint(score / x_scale) + float(x_zero), 0.0f, 255.0f);
      xq.data<uint8_t>()[r * length + j] = uint8_t(q);
      row.push_back((double(q) - x_zero) * x_scale);
    }
    const double top = *std::max_element(row.begin(), row.end());
    double total = 0;
    for (double& v : row) total += v = std::exp(v - top);
    for (double v : row) run.probabilities.push_back(v / total);
  }
  Graph g;
  const ValueId in = g.add_input("x", TensorType{DType::U8, Shape(Dims{rows, length})});
  std::vector<ValueId> inputs = {in, g.add_const("x_scale", scalar_f32(x_scale)), g.add_const("x_zero", scalar_u8(x_zero))};
  if (output == "uniform") {
    inputs.push_back(g.add_const("y_scale", scalar_f32(y_scale)));
    inputs.push_back(g.add_const("y_zero", scalar_u8(0)));
  }
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::QSoftmax, "softmax", inputs, {y}, {Attribute{"output", output}});
  g.outputs = {y};
  infer_types(g);
  run.codes = run_reference(g, std::vector<Tensor>{xq})[0];
  return run;
}

}  // namespace

TEST_CASE("QSoftmax: the integer exp gives float softmax within half an output step plus 0.5%") {
  std::mt19937 rng(3);
  for (float x_scale : {0.02f, 0.07f, 0.4f}) {
    CAPTURE(x_scale);
    const float y_scale = 1.0f / 255;
    const SoftmaxRun run = run_qsoftmax(16, 197, x_scale, 140, "uniform", y_scale, rng);
    double worst = 0;
    for (int64_t i = 0; i < run.codes.numel(); ++i) {
      const double p = run.probabilities[size_t(i)];
      // 0.5%: the exp polynomial's own relative error (up to 0.3-0.4% on these rows, measured).
      worst = std::max(worst, std::fabs(run.codes.data<uint8_t>()[i] * double(y_scale) - p) - 0.005 * p);
    }
    CHECK(worst <= 0.5 * y_scale + 1e-9);
  }
}

TEST_CASE("QSoftmax: log2 codes are round(-log2 p) of float softmax, up to ties the integer exp moves") {
  std::mt19937 rng(4);
  const SoftmaxRun run = run_qsoftmax(16, 197, 0.05f, 140, "log2", 0, rng);
  int64_t exact = 0;
  for (int64_t i = 0; i < run.codes.numel(); ++i) {
    const double p = run.probabilities[size_t(i)];
    const double expected = std::min(15.0, std::nearbyint(-std::log2(p)));
    const int code = run.codes.data<uint8_t>()[i];
    // A code may differ only where -log2 p is within 0.01 of a rounding boundary.
    if (code == int(expected)) ++exact;
    else CHECK(std::fabs(std::fabs(-std::log2(p) - expected) - 0.5) < 0.01);
    CHECK(code <= 15);
  }
  CHECK(exact >= run.codes.numel() * 99 / 100);
}

TEST_CASE("QSoftmax: log2 codes keep the small attention weights that uniform 8-bit zeroes") {
  std::mt19937 rng(8);
  const SoftmaxRun log2 = run_qsoftmax(8, 197, 0.05f, 140, "log2", 0, rng);
  rng.seed(8);
  const SoftmaxRun uniform = run_qsoftmax(8, 197, 0.05f, 140, "uniform", 1.0f / 255, rng);
  int64_t zeroed = 0, kept = 0;
  for (int64_t i = 0; i < log2.codes.numel(); ++i) {
    if (log2.probabilities[size_t(i)] < 0.5 / 255) {
      zeroed += uniform.codes.data<uint8_t>()[i] == 0;
      kept += log2.codes.data<uint8_t>()[i] < 15;
    }
  }
  MESSAGE("weights below half a uniform step: uniform zeroes ", zeroed, ", log2 keeps ", kept);
  CHECK(zeroed > 100);
  CHECK(kept > zeroed / 2);
}

TEST_CASE("Log2Dequantize: code k is 2^-k") {
  Graph g;
  const ValueId in = g.add_input("c", TensorType{DType::U8, Shape(Dims{4})});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::Log2Dequantize, "dq", {in}, {y});
  g.outputs = {y};
  infer_types(g);
  Tensor codes(DType::U8, Dims{4});
  for (int i = 0; i < 4; ++i) codes.data<uint8_t>()[i] = uint8_t(i * 5);
  const Tensor out = run_reference(g, std::vector<Tensor>{codes})[0];
  CHECK(out.data<float>()[0] == 1.0f);
  CHECK(out.data<float>()[1] == 1.0f / 32);
  CHECK(out.data<float>()[2] == 1.0f / 1024);
  CHECK(out.data<float>()[3] == 1.0f / 32768);
}

TEST_CASE("QSoftmax: out-of-range bits and a missing output scale are errors") {
  Graph g;
  const ValueId in = g.add_input("x", TensorType{DType::U8, Shape(Dims{2, 3})});
  const ValueId y = g.add_value("y");
  Node& n = g.add_node(OpKind::QSoftmax, "softmax", {in, g.add_const("s", scalar_f32(0.1f)), g.add_const("z", scalar_u8(0))},
                       {y}, {Attribute{"output", std::string("log2")}, Attribute{"bits", int64_t{9}}});
  g.outputs = {y};
  CHECK_THROWS_WITH_AS(infer_types(g), doctest::Contains("bits = 9"), Error);
  n.attrs.clear();
  CHECK_THROWS_WITH_AS(infer_types(g), doctest::Contains("needs y_scale"), Error);
}

TEST_CASE("QLayerNorm: per-tensor parameters given as several values are an error, not silently the first") {
  Graph g;
  const ValueId in = g.add_input("x", TensorType{DType::U8, Shape(Dims{2, 4})});
  const ValueId y = g.add_value("y");
  Tensor zeros(DType::U8, Dims{2});
  g.add_node(OpKind::QLayerNorm, "ln",
             {in, g.add_const("s", scalar_f32(0.1f)), g.add_const("z", scalar_u8(128)),
              g.add_const("g", Tensor::from_vector(Dims{4}, std::vector<float>(4, 1.0f))),
              g.add_const("b", Tensor::from_vector(Dims{4}, std::vector<float>(4, 0.0f))),
              g.add_const("ys", scalar_f32(0.05f)), g.add_const("yz", zeros)},
             {y});
  g.outputs = {y};
  CHECK_THROWS_WITH_AS(infer_types(g), doctest::Contains("input 6 must hold one value"), Error);
}
