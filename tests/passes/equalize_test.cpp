// Cross-layer equalization and bias correction (nnc quantize --cle, --bias-correction), judged
// by what they are for: the f32 function is unchanged, per-channel weight ranges become equal,
// and the INT8 error they target shrinks (weight-rounding error for CLE, the output's mean shift
// for bias correction), measured against the f32 graph.
#include <doctest/doctest.h>

#include <cmath>

#include "ir_test_util.h"
#include "passes/calibration.h"
#include "passes/equalize_cross_layer.h"
#include "passes/insert_quantizers.h"

using namespace nnc;
using nnc::testing::parse_typed;

namespace {

// Three Convs in a chain whose channels have wildly different weight ranges: channel i of each
// Conv's output is scaled by 4^(i-3), the next Conv's input channel i by 4^(3-i) (the function
// is a plain chain; per-tensor-per-channel quantization of the second Conv suffers).
Graph unbalanced_chain() {
  Graph g = parse_typed(R"(graph t opset=17
input %x f32[1,3,12,12]
const @w1 f32[8,3,3,3] random(seed=1)
const @b1 f32[8] random(seed=2)
const @w2 f32[8,8,3,3] random(seed=3)
const @b2 f32[8] random(seed=4)
const @w3 f32[4,8,1,1] random(seed=5)
%a f32[1,8,12,12] = Conv %x, @w1, @b1 pads=[1,1,1,1] act="Relu"
%b f32[1,8,12,12] = Conv %a, @w2, @b2 pads=[1,1,1,1] act="LeakyRelu" act_params=[0.1]
%y f32[1,4,12,12] = Conv %b, @w3
return %y
)");
  const auto scale_channels = [&](const char* name, int axis, bool up) {
    Tensor t = g.const_data(g.find(name))->clone();
    const Dims d = t.dims();
    for (int64_t e = 0; e < t.numel(); ++e) {
      const int64_t channel = axis == 0 ? e / (d[1] * d[2] * d[3]) : (e / (d[2] * d[3])) % d[1];
      t.data<float>()[e] *= float(std::pow(4.0, up ? double(channel) - 3 : 3 - double(channel)));
    }
    g.value(g.find(name)).data = std::make_shared<Tensor>(std::move(t));
  };
  scale_channels("w1", 0, true);
  scale_channels("w2", 1, false);
  scale_channels("w2", 0, true);
  scale_channels("w3", 1, false);
  Tensor b1 = g.const_data(g.find("b1"))->clone(), b2 = g.const_data(g.find("b2"))->clone();
  for (int64_t i = 0; i < 8; ++i) b1.data<float>()[i] *= float(std::pow(4.0, double(i) - 3));
  for (int64_t i = 0; i < 8; ++i) b2.data<float>()[i] *= float(std::pow(4.0, double(i) - 3));
  g.value(g.find("b1")).data = std::make_shared<Tensor>(std::move(b1));
  g.value(g.find("b2")).data = std::make_shared<Tensor>(std::move(b2));
  return g;
}

// The graph with every Conv weight rounded to s8 per output channel (weights only).
Graph with_rounded_weights(Graph g) {
  for (Node& n : g.nodes) {
    if (n.op != OpKind::Conv) continue;
    const Tensor& w = *g.const_data(n.inputs[1]);
    const QuantizedWeight q = quantize_weight_per_channel(w);
    Tensor rounded(DType::F32, w.dims());
    const int64_t per = w.numel() / w.dims()[0];
    for (int64_t e = 0; e < w.numel(); ++e)
      rounded.data<float>()[e] = float(q.values.data<int8_t>()[e]) * q.scales.data<float>()[e / per];
    n.inputs[1] = g.add_const(g.unique_value_name("rounded"), std::move(rounded));
  }
  return g;
}

double output_error(const Graph& reference, const Graph& g) {
  const std::vector<Tensor> in = {random_tensor(DType::F32, {1, 3, 12, 12}, 21)};
  return compare(run_reference(g, in)[0], run_reference(reference, in)[0]).rel_l2;
}

double range(const Tensor& w, int axis, int64_t channel) {
  const Dims d = w.dims();
  double r = 0;
  for (int64_t e = 0; e < w.numel(); ++e) {
    const int64_t c = axis == 0 ? e / (d[1] * d[2] * d[3]) : (e / (d[2] * d[3])) % d[1];
    if (c == channel) r = std::max(r, double(std::fabs(w.data<float>()[e])));
  }
  return r;
}

}  // namespace

TEST_CASE("equalize-cross-layer keeps the function, equalizes ranges and cuts the weight-rounding error") {
  const Graph original = unbalanced_chain();
  Graph g = original;
  const PassReport report = equalize_cross_layer(g);
  CHECK(report.rewrites() == 2);  // (a, b) and (b, y)
  infer_types(g);
  verify(g);
  nnc::testing::expect_same_outputs(original, g, 1e-5);
  const Tensor& w1 = *g.const_data(g.nodes[0].inputs[1]);
  const Tensor& w2 = *g.const_data(g.nodes[1].inputs[1]);
  for (int64_t i = 0; i < 8; ++i) CHECK(range(w1, 0, i) == doctest::Approx(range(w2, 1, i)).epsilon(0.01));
  const double before = output_error(original, with_rounded_weights(original));
  const double after = output_error(original, with_rounded_weights(g));
  INFO("weight-rounding error, rel L2: " << before << " before, " << after << " after");
  CHECK(after < 0.5 * before);
}

TEST_CASE("equalize-cross-layer refuses pairs scaling would change, saying why") {
  Graph g = parse_typed(R"(graph t opset=17
input %x f32[1,3,8,8]
const @w1 f32[4,3,3,3] random(seed=1)
const @w2 f32[4,4,3,3] random(seed=2)
%a f32[1,4,8,8] = Conv %x, @w1 pads=[1,1,1,1] act="Clip" act_params=[0.0, 6.0]
%y f32[1,4,8,8] = Conv %a, @w2 pads=[1,1,1,1]
return %y
)");
  const PassReport report = equalize_cross_layer(g);
  CHECK(report.rewrites() == 0);
  bool said = false;
  for (const std::string& note : report.notes()) said = said || note.find("does not commute with scaling") != std::string::npos;
  CHECK(said);
}

TEST_CASE("bias correction removes the output's mean shift that rounding the weights causes") {
  // x is all positive (mean 2 per channel), so rounding errors in the weights shift the mean.
  const Graph g = parse_typed(R"(graph t opset=17
input %x f32[1,6,10,10]
const @w f32[16,6,3,3] random(seed=7)
const @b f32[16] random(seed=8)
%y f32[1,16,10,10] = Conv %x, @w, @b pads=[1,1,1,1]
return %y
)");
  std::vector<Tensor> inputs;
  for (int i = 0; i < 4; ++i) {
    Tensor x = random_tensor(DType::F32, {1, 6, 10, 10}, 30 + uint64_t(i));
    for (int64_t e = 0; e < x.numel(); ++e) x.data<float>()[e] = 2.0f + x.data<float>()[e];
    inputs.push_back(std::move(x));
  }
  QuantizationTable table;
  // Min-max ranges of x and y over the inputs, and the means the calibration measures.
  TensorObserver x_range, y_range;
  for (const Tensor& x : inputs) {
    x_range.observe_range(x.data<float>(), x.numel(), 0.1);
    const Tensor y = run_reference(g, std::span(&x, 1))[0];
    y_range.observe_range(y.data<float>(), y.numel(), 0.1);
  }
  CalibrationOptions minmax;
  minmax.method = CalibrationMethod::MinMax;
  table.activations["x"] = quant_params(x_range.choose(minmax), minmax);
  table.activations["y"] = quant_params(y_range.choose(minmax), minmax);
  std::vector<double> means(6, 0.0);
  for (const Tensor& x : inputs)
    for (int64_t e = 0; e < x.numel(); ++e) means[size_t(e / 100)] += x.data<float>()[e] / (100.0 * double(inputs.size()));
  table.channel_means["x"] = means;

  const auto mean_shift = [&](bool correct) {
    QuantizationTable t = table;
    t.bias_correction = correct;
    Graph q = g;
    insert_quantizers(q, t);
    infer_types(q);
    double shift = 0;  // mean over channels of |mean error of the channel|
    std::vector<double> per_channel(16, 0.0);
    for (const Tensor& x : inputs) {
      const std::vector<Tensor> in = {x};
      const Tensor got = run_reference(q, in)[0], want = run_reference(g, in)[0];
      for (int64_t e = 0; e < got.numel(); ++e)
        per_channel[size_t(e / 100)] += double(got.data<float>()[e] - want.data<float>()[e]) / (100.0 * double(inputs.size()));
    }
    for (double s : per_channel) shift += std::fabs(s) / 16;
    return shift;
  };
  const double without = mean_shift(false), with = mean_shift(true);
  INFO("mean |shift| per channel: " << without << " without, " << with << " with bias correction");
  CHECK(with < 0.5 * without);
}

TEST_CASE("equalize-cross-layer follows a Conv's output through MaxPool, Resize and Concat to every Conv reading it") {
  // U2Net's shape: a stage output goes to a pool and the next stage, and through a Concat (at
  // channel offset 4) to a decoder Conv; the decoder output is upsampled into another Concat.
  const Graph original = parse_typed(R"(graph t opset=17
input %x f32[1,3,8,8]
const @w1 f32[6,3,3,3] random(seed=1)
const @w2 f32[4,6,3,3] random(seed=2)
const @w3 f32[5,10,3,3] random(seed=3)
const @w4 f32[3,5,1,1] random(seed=4)
const @s f32[4] [1,1,2,2]
%a f32[1,6,8,8] = Conv %x, @w1 pads=[1,1,1,1] act="Relu"
%p f32[1,6,4,4] = MaxPool %a kernel_shape=[2,2] strides=[2,2]
%b f32[1,4,4,4] = Conv %p, @w2 pads=[1,1,1,1] act="Relu"
%u f32[1,4,8,8] = Resize %b, _, @s mode="linear"
%cat f32[1,10,8,8] = Concat %u, %a axis=1
%c f32[1,5,8,8] = Conv %cat, @w3 pads=[1,1,1,1] act="Relu"
%y f32[1,3,8,8] = Conv %c, @w4
return %y
)");
  Graph g = original;
  const PassReport report = equalize_cross_layer(g);
  CHECK(report.rewrites() == 3);  // a (with b and c), b (with c, through the Resize), c (with y)
  infer_types(g);
  verify(g);
  nnc::testing::expect_same_outputs(original, g, 1e-5);
  // a's channel i: its own range equals the larger of b's input channel i and c's channel 4 + i.
  const Tensor& wa = *g.const_data(g.nodes[0].inputs[1]);
  const Tensor& wb = *g.const_data(g.nodes[2].inputs[1]);
  const Tensor& wc = *g.const_data(g.nodes[5].inputs[1]);
  for (int64_t i = 0; i < 6; ++i)
    CHECK(range(wa, 0, i) == doctest::Approx(std::max(range(wb, 1, i), range(wc, 1, 4 + i))).epsilon(0.01));
}
