// Tests for ops/signal.cpp. Expected values are from numpy.fft (noted), numpy transcriptions of
// the spec's MelWeightMatrix algorithm (/tmp/extra/signal_ref.py at the time of writing), or
// hand-computed windows.
#include <doctest/doctest.h>

#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

void check_close(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> got = t.to_double_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
}

// Runs one node on constant inputs (nullptr: omitted), inferring its output types first.
std::vector<Tensor> run(OpKind op, std::vector<const Tensor*> inputs, std::vector<Attribute> attrs = {}) {
  Graph g;
  g.opset = 17;
  std::vector<ValueId> ins;
  for (size_t i = 0; i < inputs.size(); ++i)
    ins.push_back(inputs[i] ? g.add_const("in" + std::to_string(i), *inputs[i]) : kNoValue);
  const ValueId y = g.add_value("y");
  g.add_node(op, "sig", ins, {y}, std::move(attrs));
  g.outputs = {y};
  infer_types(g);
  return run_reference(g, {});
}

}  // namespace

TEST_CASE("DFT: onesided output of a zero-padded real signal") {
  const Tensor x = Tensor::from_vector<float>({1, 5, 1}, {1, 2, 3, 4, 5});
  const Tensor length = Tensor::scalar<int64_t>(8);
  const Tensor y = run(OpKind::DFT, {&x, &length}, {{"onesided", int64_t{1}}})[0];
  CHECK(y.dims() == Dims{1, 5, 2});
  // numpy.fft.rfft([1, 2, 3, 4, 5], 8)
  check_close(y, {15.0, 0.0, -5.414213562373095, -7.242640687119286, 3.0, 2.0, -2.585786437626905,
                  -1.2426406871192857, 3.0, 0.0});
}

TEST_CASE("DFT: dft_length shorter than the axis cuts the signal") {
  const Tensor x = Tensor::from_vector<double>({1, 5, 1}, {1, 2, 3, 4, 5});
  const Tensor length = Tensor::scalar<int32_t>(3);
  // numpy.fft.fft([1, 2, 3])
  check_close(run(OpKind::DFT, {&x, &length})[0], {6.0, 0.0, -1.5, 0.8660254037844386, -1.5, -0.8660254037844386});
}

TEST_CASE("DFT: inverse of a complex signal along a negative axis") {
  const Tensor z = Tensor::from_vector<float>({1, 4, 2}, {1, 2, -1, 0.5, 3, -1, 0.25, 0});
  // numpy.fft.ifft([1+2j, -1+0.5j, 3-1j, 0.25])
  check_close(run(OpKind::DFT, {&z}, {{"inverse", int64_t{1}}, {"axis", int64_t{-2}}})[0],
              {0.8125, 0.375, -0.625, 0.4375, 1.1875, 0.125, -0.375, 1.0625});
}

TEST_CASE("DFT: the trailing axis and onesided complex input are errors naming the node") {
  const Tensor z = Tensor::from_vector<float>({1, 2, 2}, {1, 2, 3, 4});
  CHECK_THROWS_WITH_AS(run(OpKind::DFT, {&z}, {{"axis", int64_t{2}}}),
                       doctest::Contains("node 'sig' (DFT): axis 2 is the trailing"), Error);
  CHECK_THROWS_WITH_AS(run(OpKind::DFT, {&z}, {{"onesided", int64_t{1}}}),
                       doctest::Contains("onesided=1 needs a real input"), Error);
}

TEST_CASE("STFT: windowed frames of a complex signal, two-sided") {
  const Tensor s = Tensor::from_vector<float>({1, 7, 2}, {1, 1, 2, -1, 0.5, 0, -1, 2, 3, 0, 0, -1, 2, 2});
  const Tensor step = Tensor::scalar<int64_t>(2);
  const Tensor window = Tensor::from_vector<float>({4}, {0.5, 1, 1, 0.5});
  const Tensor y = run(OpKind::STFT, {&s, &step, &window}, {{"onesided", int64_t{0}}})[0];
  CHECK(y.dims() == Dims{1, 2, 4, 2});
  // numpy.fft.fft(s[2f : 2f + 4] * window) for frames f = 0, 1
  check_close(y, {2.5, 0.5, -2.0, -2.0, -0.5, 0.5, 2.0, 3.0, 2.25, 1.5, -0.25, 1.0, 4.25, -1.5, -5.25, -1.0});
}

TEST_CASE("STFT: a frame_length that disagrees with the window is an error") {
  const Tensor s = Tensor(DType::F32, {1, 16, 1});
  const Tensor step = Tensor::scalar<int64_t>(4);
  const Tensor window = Tensor(DType::F32, {8});
  const Tensor frame = Tensor::scalar<int64_t>(6);
  CHECK_THROWS_WITH_AS(run(OpKind::STFT, {&s, &step, &window, &frame}),
                       doctest::Contains("(STFT): frame_length is 6 but the window has 8 elements"), Error);
}

TEST_CASE("HannWindow, BlackmanWindow: symmetric and periodic windows in the requested type") {
  const Tensor five = Tensor::scalar<int64_t>(5);
  const Tensor hann = run(OpKind::HannWindow, {&five}, {{"periodic", int64_t{0}}, {"output_datatype", int64_t{11}}})[0];
  CHECK(hann.dtype() == DType::F64);
  check_close(hann, {0, 0.5, 1, 0.5, 0});  // 0.5 - 0.5 cos(2 pi n / 4)
  const Tensor four = Tensor::scalar<int32_t>(4);
  // 0.42 - 0.5 cos(pi n / 2) + 0.08 cos(pi n)
  check_close(run(OpKind::BlackmanWindow, {&four})[0], {0, 0.34, 1, 0.34});
}

TEST_CASE("HammingWindow: the size computed at run time leaves the length unknown") {
  Graph g;
  const ValueId size = g.add_input("size", {DType::I64, Shape(Dims{})});
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::HammingWindow, "w", {size}, {y});
  infer_types(g);
  CHECK(g.type(y) == TensorType{DType::F32, Shape(std::vector<Dim>{Dim()})});
}

TEST_CASE("MelWeightMatrix: triangles between mel points mapped to DFT bins") {
  const Tensor bins = Tensor::scalar<int64_t>(3), length = Tensor::scalar<int64_t>(16);
  const Tensor rate = Tensor::scalar<int64_t>(16000);
  const Tensor lower = Tensor::scalar<float>(300), upper = Tensor::scalar<float>(8000);
  const Tensor m = run(OpKind::MelWeightMatrix, {&bins, &length, &rate, &lower, &upper})[0];
  CHECK(m.dims() == Dims{9, 3});
  check_close(m, {1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0, 0.0,
                  0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0});
}
