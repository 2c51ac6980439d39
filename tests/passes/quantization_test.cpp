// INT8 through the passes: the calibrators (passes/calibration.h) against float references
// computed here from the samples themselves, and insert-quantizers + fold-quantized-ops on a
// U-Net-like block and on an ONNX-Runtime-style QDQ graph.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "ir_test_util.h"
#include "passes/calibration.h"
#include "passes/eliminate_dead_code.h"
#include "passes/fold_constants.h"
#include "passes/fold_quantized_ops.h"
#include "passes/insert_quantizers.h"

using namespace nnc;
using nnc::testing::parse_typed;

namespace {

TensorObserver observe(const std::vector<float>& samples, int batches = 4) {
  TensorObserver o;
  const size_t per = samples.size() / size_t(batches);
  for (int sweep = 0; sweep < 2; ++sweep)
    for (int b = 0; b < batches; ++b) {
      const float* data = samples.data() + size_t(b) * per;
      if (sweep == 0) o.observe_range(data, int64_t(per), 0.1);
      else o.observe_histogram(data, int64_t(per), 2048);
    }
  return o;
}

// The mean squared error of quantizing `samples` with `p`, computed on the samples themselves.
double fake_quant_mse(const std::vector<float>& samples, const QuantParams& p) {
  const double lo = p.is_unsigned ? 0 : -128, hi = p.is_unsigned ? 255 : 127;
  double err = 0;
  for (float x : samples) {
    const double q = std::clamp(std::nearbyint(x / double(p.scale)) + p.zero_point, lo, hi);
    const double back = (q - p.zero_point) * double(p.scale);
    err += (back - x) * (back - x);
  }
  return err / double(samples.size());
}

CalibrationOptions with_method(CalibrationMethod m, bool symmetric = false) {
  CalibrationOptions o;
  o.method = m;
  o.symmetric = symmetric;
  return o;
}

// Heavy-tailed activations: mostly |N(0, 1)|-like after ReLU, with a few large outliers.
std::vector<float> relu_with_outliers(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = std::max(0.0f, normal(rng));
  for (size_t i = 0; i < n; i += 5000) v[i] = 40.0f + float(i % 7);  // 0.02% outliers
  return v;
}

}  // namespace

TEST_CASE("minmax and ema ranges are the extremes and their moving average") {
  const std::vector<float> samples = {0.5f, -1.0f, 2.0f, 0.0f,   // batch 1: [-1, 2]
                                      3.0f, -0.5f, 1.0f, 1.0f};  // batch 2: [-0.5, 3]
  const TensorObserver o = observe(samples, 2);
  const Range mm = o.choose(with_method(CalibrationMethod::MinMax));
  CHECK(mm.low == -1.0f);
  CHECK(mm.high == 3.0f);
  const Range ema = o.choose(with_method(CalibrationMethod::Ema));
  CHECK(ema.low == doctest::Approx(0.9 * -1.0 + 0.1 * -0.5));
  CHECK(ema.high == doctest::Approx(0.9 * 2.0 + 0.1 * 3.0));
}

TEST_CASE("the percentile range matches the samples' own percentile within a histogram bin") {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.5f, 2.0f);
  std::vector<float> samples(200000);
  for (float& x : samples) x = normal(rng);
  const TensorObserver o = observe(samples);
  CalibrationOptions opt = with_method(CalibrationMethod::Percentile);
  opt.percentile = 99.9;
  const Range r = o.choose(opt);
  std::vector<float> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  const float want_high = sorted[size_t(0.999 * double(sorted.size()))];
  const float want_low = sorted[size_t(0.001 * double(sorted.size()))];
  const double bin = (sorted.back() - sorted.front()) / 2048.0;
  CHECK(std::fabs(r.high - want_high) <= 1.5 * bin);
  CHECK(std::fabs(r.low - want_low) <= 1.5 * bin);
}

TEST_CASE("the mse range is within a few percent of the best clipping found by brute force") {
  std::mt19937 rng(5);
  std::exponential_distribution<float> laplace_tail(1.0f);  // |Laplace|: long tail, no outliers
  std::vector<float> samples(200000);
  for (float& x : samples) x = laplace_tail(rng);
  const CalibrationOptions opt = with_method(CalibrationMethod::Mse);
  const QuantParams chosen = quant_params(observe(samples).choose(opt), opt);
  double best = INFINITY;
  for (double high = 0.5; high <= 48; high *= 1.01)  // brute force on the samples themselves
    best = std::min(best, fake_quant_mse(samples, quant_params(Range{0, float(high)}, opt)));
  const double minmax = fake_quant_mse(samples, quant_params(observe(samples).choose(with_method(CalibrationMethod::MinMax)), opt));
  CHECK(fake_quant_mse(samples, chosen) <= best * 1.05);
  CHECK(fake_quant_mse(samples, chosen) < minmax * 0.95);  // the far tail no longer sets the step
}

TEST_CASE("the entropy range clips rare outliers but keeps the bulk of the distribution") {
  // Symmetric s8, TensorRT's setting: on a Gaussian the KL threshold lands near 3.5-4 sigma (the
  // behaviour reported for TensorRT's calibrator), and rare far outliers are clipped.
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> gauss(200000);
  for (float& x : gauss) x = normal(rng);
  const CalibrationOptions sym = with_method(CalibrationMethod::Entropy, true);
  const Range g = observe(gauss).choose(sym);
  CHECK(g.high > 3.0f);
  CHECK(g.high < 4.5f);
  CHECK(g.low == -g.high);

  const std::vector<float> samples = relu_with_outliers(200000, 9);
  const Range r = observe(samples).choose(sym);
  CHECK(r.high < 20.0f);  // the outliers (40-46) are clipped
  CHECK(r.high > 2.5f);   // but not the body of |N(0, 1)| (99% below 2.58)
  // What the clipping buys: the body is resolved finer than with the outliers' range.
  std::vector<float> body;
  for (float x : samples)
    if (x < 10) body.push_back(x);
  const QuantParams p = quant_params(r, sym);
  const QuantParams mm = quant_params(observe(samples).choose(with_method(CalibrationMethod::MinMax)), sym);
  CHECK(fake_quant_mse(body, p) < fake_quant_mse(body, mm) / 4);

  // Asymmetric u8 keeps the bulk on both sides (the bin holding zero keeps its mass in Q, so the
  // search does not clip a ReLU's output to its first few levels).
  const Range a = observe(gauss).choose(with_method(CalibrationMethod::Entropy));
  CHECK(a.high > 3.0f);
  CHECK(a.low < -3.0f);
}

TEST_CASE("quantization parameters represent zero exactly and cover the range") {
  const CalibrationOptions u8;
  const QuantParams p = quant_params(Range{-1.0f, 3.0f}, u8);
  CHECK(p.is_unsigned);
  CHECK(p.scale == doctest::Approx(4.0 / 255));
  CHECK((0 - p.zero_point) * p.scale == doctest::Approx(-1.0).epsilon(0.01));
  CHECK((255 - p.zero_point) * p.scale == doctest::Approx(3.0).epsilon(0.01));
  const QuantParams relu = quant_params(Range{0.2f, 6.0f}, u8);  // widened to include 0
  CHECK(relu.zero_point == 0);
  CalibrationOptions s8;
  s8.symmetric = true;
  const QuantParams sym = quant_params(Range{-1.0f, 3.0f}, s8);
  CHECK(!sym.is_unsigned);
  CHECK(sym.zero_point == 0);
  CHECK(sym.scale == doctest::Approx(3.0 / 127));
  CalibrationOptions pow2 = s8;
  pow2.power_of_two = true;
  const QuantParams p2 = quant_params(Range{-1.0f, 3.0f}, pow2);
  CHECK(std::exp2(std::round(std::log2(p2.scale))) == p2.scale);
  CHECK(p2.scale >= 3.0 / 127);
  CHECK(quant_params(Range{0, 0}, u8).scale == 1.0f);  // a constant-zero tensor still gets a valid scale
  CHECK(parse_calibration_method("entropy") == CalibrationMethod::Entropy);
  CHECK(!parse_calibration_method("kl"));
}

namespace {

// U2Net's shapes of reuse: a pooled map feeding a conv, a conv adding a skip after its ReLU, a
// Concat of two conv outputs feeding a conv, and a graph output written by a conv.
const char* kBlock = R"(graph t opset=13
input  %x    f32[1,4,16,16]
const  @w1   f32[8,4,3,3]   random(seed=1)
const  @b1   f32[8]         random(seed=2)
const  @w2   f32[8,8,3,3]   random(seed=3)
const  @w4   f32[8,8,3,3]   random(seed=5)
const  @w3   f32[8,16,1,1]  random(seed=4)
%c1   f32[1,8,16,16] = Conv    %x, @w1, @b1  pads=[1,1,1,1] act="Relu"
%p    f32[1,8,8,8]   = MaxPool %c1  kernel_shape=[2,2] strides=[2,2]
%c4   f32[1,8,8,8]   = Conv    %p, @w4  pads=[1,1,1,1] act="Relu"
%c2   f32[1,8,8,8]   = Conv    %c4, @w2  pads=[1,1,1,1] act="Relu" residual_after_act=1
%cat  f32[1,16,8,8]  = Concat  %c2, %c4  axis=1
%y    f32[1,8,8,8]   = Conv    %cat, @w3
return %y
)";

// Ranges from running the f32 graph on a few seeded inputs, as nnc quantize does with images.
QuantizationTable calibrate_on_random_inputs(const Graph& g) {
  std::map<std::string, TensorObserver> observers;
  std::vector<Tensor> batches;
  for (int b = 0; b < 4; ++b) batches.push_back(random_tensor(DType::F32, g.type(g.inputs[0]).shape.concrete(), 40 + b));
  for (int sweep = 0; sweep < 2; ++sweep)
    for (const Tensor& batch : batches) {
      auto watch = [&](const std::string& name, const Tensor& t) {
        if (sweep == 0) observers[name].observe_range(t.data<float>(), t.numel(), 0.1);
        else observers[name].observe_histogram(t.data<float>(), t.numel(), 2048);
      };
      watch("x", batch);
      InterpreterOptions o;
      o.tap = [&](const Node& n, int i, const Tensor& t) { watch(g.value(n.outputs[size_t(i)]).name, t); };
      run_reference(g, std::span(&batch, 1), o);
    }
  QuantizationTable table;
  const CalibrationOptions minmax = with_method(CalibrationMethod::MinMax);
  for (const auto& [name, o] : observers) table.activations[name] = quant_params(o.choose(minmax), minmax);
  return table;
}

int count_op(const Graph& g, OpKind op) { return g.count(op); }

}  // namespace

TEST_CASE("insert-quantizers and fold-quantized-ops turn a U-Net-like block into integer ops") {
  Graph g = parse_typed(kBlock);
  g.nodes[3].inputs.push_back(kNoValue);  // no bias
  g.nodes[3].inputs.push_back(g.find("c4"));  // c2 adds its own input after its ReLU
  infer_types(g);
  const Graph f32 = g;
  const QuantizationTable table = calibrate_on_random_inputs(g);

  Graph qdq = g;
  CHECK(insert_quantizers(qdq, table).rewrites() == 4);
  infer_types(qdq);
  verify(qdq);
  CHECK(count_op(qdq, OpKind::QuantizeLinear) >= 4);
  CHECK(qdq.value(qdq.outputs[0]).name == "y");  // the graph output keeps its name (and stays f32)
  CHECK(qdq.type(qdq.outputs[0]).dtype == DType::F32);
  nnc::testing::expect_same_outputs(f32, qdq, 0.05);  // fake quantization: a few percent

  Graph folded = qdq;
  const PassReport report = fold_quantized_ops(folded);
  eliminate_dead_code(folded);
  infer_types(folded);
  verify(folded);
  CHECK(count_op(folded, OpKind::QLinearConv) == 4);
  CHECK(count_op(folded, OpKind::Conv) == 0);
  for (const Node& n : folded.nodes) {
    if (n.op == OpKind::MaxPool || n.op == OpKind::Concat) CHECK(folded.type(n.outputs[0]).dtype == DType::U8);
    if (n.op == OpKind::QLinearConv && n.name == "c2") {
      CHECK(n.input_count() == 12);  // the residual arrives quantized, as inputs 9-11
      CHECK(attr_int(n, "residual_after_act") == 1);
    }
  }
  CHECK(report.rewrites() >= 6);  // four Convs, the MaxPool, the Concat
  // The integer graph computes what the fake-quantized one does, up to rounding the bias to
  // int32 and requantizing once: within a couple of output steps.
  std::vector<Tensor> input = {random_tensor(DType::F32, Dims{1, 4, 16, 16}, 77)};
  const Tensor want = run_reference(qdq, input)[0];
  const Tensor got = run_reference(folded, input)[0];
  const double step = table.activations.at("y").scale;
  CHECK(compare(got, want).max_abs <= 2.01 * step);
}

TEST_CASE("insert-quantizers leaves activations without an integer epilogue, and Convs asked for, in f32, saying why") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x    f32[1,4,16,16]
const  @w1   f32[8,4,3,3]   random(seed=1)
const  @w2   f32[1,8,3,3]   random(seed=2)
const  @w3   f32[8,8,3,3]   random(seed=3)
%c1   f32[1,8,16,16] = Conv %x, @w1  pads=[1,1,1,1] act="Sigmoid"
%c3   f32[1,8,16,16] = Conv %c1, @w3  pads=[1,1,1,1]
%y    f32[1,1,16,16] = Conv %c3, @w2  pads=[1,1,1,1]
return %y
)");
  QuantizationTable table = calibrate_on_random_inputs(g);
  table.keep_float.insert("c3");
  const PassReport report = insert_quantizers(g, table);
  CHECK(report.rewrites() == 1);  // the 1-map head
  std::string notes;
  for (const std::string& n : report.notes()) notes += n + "\n";
  CHECK(notes.find("activation Sigmoid has no integer epilogue") != std::string::npos);
  CHECK(notes.find("kept in f32 by request") != std::string::npos);
}

TEST_CASE("fold-quantized-ops maps an ONNX Runtime style QDQ Conv (i8 weights per channel, i32 bias) to QLinearConv") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x     f32[1,2,5,5]
const  @xs    f32[]       [0.02]
const  @xz    u8[]        [128]
const  @wq    i8[3,2,1,1] [10, -20, 30, -40, 50, -60]
const  @ws    f32[3]      [0.01, 0.02, 0.03]
const  @wz    i8[3]       [0, 0, 0]
const  @bq    i32[3]      [100, -200, 300]
const  @bs    f32[3]      [0.0002, 0.0004, 0.0006]
const  @ys    f32[]       [0.05]
const  @yz    u8[]        [10]
%xq   u8[1,2,5,5]  = QuantizeLinear   %x, @xs, @xz
%xd   f32[1,2,5,5] = DequantizeLinear %xq, @xs, @xz
%wd   f32[3,2,1,1] = DequantizeLinear @wq, @ws, @wz  axis=0
%bd   f32[3]       = DequantizeLinear @bq, @bs  axis=0
%c    f32[1,3,5,5] = Conv %xd, %wd, %bd
%r    f32[1,3,5,5] = Relu %c
%yq   u8[1,3,5,5]  = QuantizeLinear   %r, @ys, @yz
%y    f32[1,3,5,5] = DequantizeLinear %yq, @ys, @yz
return %y
)");
  const Graph before = g;
  fold_constants(g);  // the i32 bias folds to f32; the weight's DequantizeLinear stays
  CHECK(count_op(g, OpKind::DequantizeLinear) == 3);
  CHECK(!g.is_const(g.find("wd")));
  // fuse-activations would put the Relu into the Conv; do it by hand to test this pass alone.
  std::vector<bool> erase(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op == OpKind::Conv) g.nodes[i].set_attr("act", std::string("Relu"));
    erase[i] = g.nodes[i].op == OpKind::Relu;
  }
  g.replace_uses(g.find("r"), g.find("c"));
  g.erase_nodes(erase);
  fold_quantized_ops(g);
  eliminate_dead_code(g);
  infer_types(g);
  verify(g);
  CHECK(count_op(g, OpKind::QLinearConv) == 1);
  CHECK(count_op(g, OpKind::Conv) == 0);
  nnc::testing::expect_same_outputs(before, g, 1e-6);  // bias at scale xs·ws: exact
}

namespace {

// One attention head as a ViT has it: LayerNorm, Q/K/V projections (Q with a bias), QKᵀ, Softmax
// and the weighted sum of V.
const char* kAttention = R"(graph t opset=17
input  %x    f32[1,8,16]
const  @g    f32[16]     random(seed=1)
const  @b    f32[16]     random(seed=2)
const  @wq   f32[16,16]  random(seed=3)
const  @bq   f32[16]     random(seed=4)
const  @wk   f32[16,16]  random(seed=5)
const  @wv   f32[16,16]  random(seed=6)
%ln  f32[1,8,16] = LayerNormalization %x, @g, @b  axis=-1
%q   f32[1,8,16] = MatMul %ln, @wq, @bq
%k   f32[1,8,16] = MatMul %ln, @wk
%v   f32[1,8,16] = MatMul %ln, @wv
%kt  f32[1,16,8] = Transpose %k  perm=[0,2,1]
%s   f32[1,8,8]  = MatMul %q, %kt
%p   f32[1,8,8]  = Softmax %s  axis=-1
%y   f32[1,8,16] = MatMul %p, %v
return %y
)";

}  // namespace

TEST_CASE("insert-quantizers and fold-quantized-ops run a ViT attention head on integers: naive and FQ-ViT") {
  const Graph f32 = parse_typed(kAttention);
  QuantizationTable table = calibrate_on_random_inputs(f32);
  // PTF needs the LayerNorm input's range per channel (calibrate() records it; here by hand).
  QuantizationTable::ChannelRanges ranges{std::vector<float>(16, 0.0f), std::vector<float>(16, 0.0f)};
  for (int b = 0; b < 4; ++b) {
    const Tensor x = random_tensor(DType::F32, Dims{1, 8, 16}, 40 + b);
    for (int64_t i = 0; i < x.numel(); ++i) {
      ranges.low[size_t(i % 16)] = std::min(ranges.low[size_t(i % 16)], x.data<float>()[i]);
      ranges.high[size_t(i % 16)] = std::max(ranges.high[size_t(i % 16)], x.data<float>()[i]);
    }
  }
  table.channel_ranges["x"] = ranges;
  const std::vector<Tensor> input = {random_tensor(DType::F32, Dims{1, 8, 16}, 99)};
  const Tensor want_f32 = run_reference(f32, input)[0];
  for (const bool fq_vit : {false, true}) {
    CAPTURE(fq_vit);
    table.layernorm = fq_vit ? QuantizationTable::LayerNorm::PowerOfTwoFactor : QuantizationTable::LayerNorm::Int8;
    table.softmax = fq_vit ? QuantizationTable::Softmax::Log2 : QuantizationTable::Softmax::Int8;
    Graph qdq = f32;
    CHECK(insert_quantizers(qdq, table).rewrites() == 7);  // LayerNorm, 5 MatMuls, Softmax
    infer_types(qdq);
    verify(qdq);
    CHECK(count_op(qdq, OpKind::QLayerNorm) == 1);
    CHECK(count_op(qdq, OpKind::QSoftmax) == 1);
    CHECK(count_op(qdq, OpKind::Log2Dequantize) == (fq_vit ? 1 : 0));

    Graph folded = qdq;
    fold_quantized_ops(folded);
    eliminate_dead_code(folded);
    infer_types(folded);
    verify(folded);
    CHECK(count_op(folded, OpKind::MatMul) == 0);
    CHECK(count_op(folded, OpKind::QLinearMatMul) == 5);
    for (const Node& n : folded.nodes) {
      if (n.op == OpKind::QLinearMatMul && n.name == "q") CHECK(n.input_count() == 9);  // its bias, as i32
      if (n.op == OpKind::QLinearMatMul && n.name == "y") CHECK(n.has_attr("a_encoding") == fq_vit);
      if (n.op == OpKind::Transpose) CHECK(folded.type(n.outputs[0]).dtype == DType::U8);
    }
    // Integer ops compute what the fake-quantized graph does, up to the bias rounding to int32.
    const Tensor want = run_reference(qdq, input)[0];
    const Tensor got = run_reference(folded, input)[0];
    CHECK(compare(got, want).max_abs <= 1.01 * table.activations.at("y").scale);
    CHECK(compare(got, want_f32).rel_l2 < (fq_vit ? 0.25 : 0.1));
    MESSAGE("attention head INT8 vs f32, ", std::string(fq_vit ? "FQ-ViT" : "naive"), ": rel L2 ", compare(got, want_f32).rel_l2);
  }
}

TEST_CASE("insert-quantizers runs a classifier Gemm (transB, bias) as an integer QLinearMatMul; other Gemms stay f32") {
  const char* text = R"(graph t opset=17
input  %x   f32[4,32]
const  @w   f32[10,32]  random(seed=1)
const  @c   f32[10]     random(seed=2)
%y  f32[4,10] = Gemm %x, @w, @c  transB=1
%z  f32[4,10] = Gemm %x, @w, @c  transB=1 alpha=0.5
return %y, %z
)";
  const Graph f32 = parse_typed(text);
  const QuantizationTable table = calibrate_on_random_inputs(f32);
  Graph g = f32;
  const PassReport report = insert_quantizers(g, table);
  CHECK(report.rewrites() == 1);
  CHECK(fmt::format("{}", fmt::join(report.notes(), "\n")).find("alpha or beta is not 1") != std::string::npos);
  infer_types(g);
  const Graph qdq = g;
  fold_quantized_ops(g);
  eliminate_dead_code(g);
  infer_types(g);
  verify(g);
  CHECK(count_op(g, OpKind::QLinearMatMul) == 1);
  CHECK(count_op(g, OpKind::Gemm) == 1);
  const std::vector<Tensor> input = {random_tensor(DType::F32, Dims{4, 32}, 7)};
  const std::vector<Tensor> want = run_reference(f32, input), got = run_reference(g, input);
  CHECK(compare(got[0], run_reference(qdq, input)[0]).max_abs <= 1.01 * table.activations.at("y").scale);
  CHECK(compare(got[0], want[0]).rel_l2 < 0.05);
  CHECK(compare(got[1], want[1]).rel_l2 < 0.05);  // f32, reading x's round trip as every later reader does
}
