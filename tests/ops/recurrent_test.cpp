// Tests for ops/recurrent.cpp. Expected values are from a numpy transcription of the ONNX
// equations (/tmp/extra/rnn_ref.py at the time of writing; the formulas are in the op's header).
// ONNX's conformance tests cover forward and batch-first runs; these cover what they do not:
// two directions, sequence_lens, linear_before_reset, input_forget, clip and activation params.
#include <doctest/doctest.h>

#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

// Deterministic inputs: ((i * 7) % 11 - 5) * scale + offset.
Tensor values(Dims dims, double scale, double offset = 0.0) {
  std::vector<float> v(size_t(product(dims)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = float(double(int(i * 7 % 11) - 5) * scale + offset);
  return Tensor::from_vector<float>(std::move(dims), v);
}

void check_close(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> got = t.to_double_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

// Runs one recurrent node whose inputs are all graph inputs (nullptr: omitted).
std::vector<Tensor> run(OpKind op, std::vector<const Tensor*> inputs, int outputs, std::vector<Attribute> attrs) {
  Graph g;
  std::vector<ValueId> ins, outs;
  std::vector<Tensor> given;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i]) {
      ins.push_back(kNoValue);
      continue;
    }
    ins.push_back(g.add_input("in" + std::to_string(i), inputs[i]->type()));
    given.push_back(*inputs[i]);
  }
  for (int i = 0; i < outputs; ++i) outs.push_back(g.add_value("out" + std::to_string(i)));
  g.add_node(op, "cell", ins, outs, std::move(attrs));
  g.outputs = outs;
  infer_types(g);
  return run_reference(g, given);
}

}  // namespace

TEST_CASE("RNN: bidirectional with sequence_lens runs each batch entry only over its length") {
  const Tensor x = values({3, 2, 2}, 0.1), w = values({2, 2, 2}, 0.2), r = values({2, 2, 2}, 0.15, 0.05);
  const Tensor b = values({2, 4}, 0.1, 0.02), h0 = values({2, 2, 2}, 0.05);
  const Tensor lens = Tensor::from_vector<int32_t>({2}, {3, 1});
  const auto out = run(OpKind::RNN, {&x, &w, &r, &b, &lens, &h0}, 2,
                       {{"hidden_size", int64_t{2}}, {"direction", std::string("bidirectional")}});
  CHECK(out[0].dims() == Dims{3, 2, 2, 2});
  check_close(out[0], {0.12927258360605837, 0.8571495748848095, -0.10214253861468393, 0.9129567300894557,
                       0.4363355844314765, -0.1604592398367491, 0.23549574953849794, -0.28213481266963414,
                       -0.5853010975787524, 0.7831252816727796, 0.0, 0.0, 0.7653391442844844, 0.01343038508426217,
                       0.0, 0.0, 0.49586251491627376, 0.9620565288030468, 0.0, 0.0, 0.3363755443363322,
                       -0.5042582228791403, 0.0, 0.0});
  check_close(out[1], {0.49586251491627376, 0.9620565288030468, -0.10214253861468393, 0.9129567300894557,
                       0.4363355844314765, -0.1604592398367491, 0.23549574953849794, -0.28213481266963414});
}

TEST_CASE("GRU: reverse direction, with and without linear_before_reset") {
  const Tensor x = values({3, 1, 2}, 0.3), w = values({1, 6, 2}, 0.2), r = values({1, 6, 2}, 0.15, 0.05);
  const Tensor b = values({1, 12}, 0.1, 0.02);
  auto gru = [&](int64_t linear_before_reset) {
    return run(OpKind::GRU, {&x, &w, &r, &b}, 2,
               {{"hidden_size", int64_t{2}}, {"direction", std::string("reverse")},
                {"linear_before_reset", linear_before_reset}});
  };
  check_close(gru(0)[0], {-0.01498994768371728, -0.19322075009922005, -0.17291300844579535, -0.0545072303587878,
                          -0.42316745032130904, 0.05473768517978494});
  const auto out = gru(1);
  check_close(out[0], {-0.00602092758107492, -0.09606560897516155, -0.1610257463417054, 0.026209639262469817,
                       -0.4068433414048541, 0.13644493222325793});
  check_close(out[1], {-0.00602092758107492, -0.09606560897516155});  // reverse ends at t = 0
}

TEST_CASE("LSTM: input_forget, clip and activations with alpha/beta consumed in order") {
  const Tensor x = values({2, 1, 2}, 0.4), w = values({1, 8, 2}, 0.2), r = values({1, 8, 2}, 0.15, 0.05);
  // HardSigmoid takes alpha 0.3 and beta 0.4, LeakyRelu the next alpha (0.1), Tanh nothing.
  const auto out = run(OpKind::LSTM, {&x, &w, &r}, 3,
                       {{"hidden_size", int64_t{2}},
                        {"input_forget", int64_t{1}},
                        {"clip", 0.5f},
                        {"activations", std::vector<std::string>{"HardSigmoid", "LeakyRelu", "Tanh"}},
                        {"activation_alpha", std::vector<float>{0.3f, 0.1f}},
                        {"activation_beta", std::vector<float>{0.4f}}});
  check_close(out[0], {-0.006873267451177466, -0.006873267451177466, -0.009963469868750479, -0.008684761301994135});
  check_close(out[1], {-0.009963469868750479, -0.008684761301994135});
  check_close(out[2], {-0.03987500000000001, -0.03475302970981477});
}

TEST_CASE("LSTM: inference keeps symbolic sequence and batch dims") {
  Graph g;
  const ValueId x = g.add_input("x", {DType::F32, Shape(std::vector<Dim>{Dim::named("S"), Dim::named("N"), Dim(3)})});
  const ValueId w = g.add_input("w", {DType::F32, Shape(Dims{2, 16, 3})});
  const ValueId r = g.add_input("r", {DType::F32, Shape(Dims{2, 16, 4})});
  const ValueId y = g.add_value("y"), h = g.add_value("h"), c = g.add_value("c");
  g.add_node(OpKind::LSTM, "lstm", {x, w, r}, {y, h, c}, {{"direction", std::string("bidirectional")}});
  infer_types(g);
  CHECK(g.type(y).shape == Shape(std::vector<Dim>{Dim::named("S"), Dim(2), Dim::named("N"), Dim(4)}));
  CHECK(g.type(c).shape == Shape(std::vector<Dim>{Dim(2), Dim::named("N"), Dim(4)}));
}

TEST_CASE("RNN: mismatched weights, unknown activations and bad sequence_lens are errors naming the node") {
  const Tensor x = values({3, 1, 2}, 0.1), w = values({1, 3, 2}, 0.2), r = values({1, 2, 2}, 0.1);
  CHECK_THROWS_WITH_AS(run(OpKind::RNN, {&x, &w, &r}, 2, {{"hidden_size", int64_t{2}}}),
                       doctest::Contains("node 'cell' (RNN): input 1 (W) has shape [1,3,2] but must be [1,2,2]"), Error);
  const Tensor w2 = values({1, 2, 2}, 0.2);
  CHECK_THROWS_WITH_AS(run(OpKind::RNN, {&x, &w2, &r}, 2, {{"activations", std::vector<std::string>{"Swish"}}}),
                       doctest::Contains("activation 'Swish' is not one of the functions"), Error);
  const Tensor lens = Tensor::from_vector<int32_t>({1}, {4});
  CHECK_THROWS_WITH_AS(run(OpKind::RNN, {&x, &w2, &r, nullptr, &lens}, 2, {}),
                       doctest::Contains("sequence_lens holds 4; it must be in 0..3"), Error);
}
