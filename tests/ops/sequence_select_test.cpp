// Tests for ops/sequence_select.cpp. Expected values are from numpy (reversing column slices,
// numpy.compress).
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
Tensor arange(Dims dims) {
  Tensor t(DType::I64, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = i;
  return t;
}

std::vector<Tensor> run(const std::string& text, std::vector<Tensor> inputs) {
  Graph g = parse_ir(text);
  infer_types(g);
  return run_reference(g, inputs);
}
}  // namespace

TEST_CASE("ReverseSequence: time-major, each batch column reversed over its own length") {
  const auto y =
      run("graph t opset=10\ninput %x i64[4,3]\nconst @lens i64[3] [4, 1, 2]\n"
          "%y i64[4,3] = ReverseSequence %x, @lens\nreturn %y\n",
          {arange({4, 3})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{9, 1, 5, 6, 4, 2, 3, 7, 8, 0, 10, 11});
}

TEST_CASE("ReverseSequence: batch-major, and a length past the time axis is an error") {
  const std::string text =
      "graph t opset=10\ninput %x i64[2,3]\ninput %lens i64[2]\n"
      "%y i64[2,3] = ReverseSequence %x, %lens batch_axis=0 time_axis=1\nreturn %y\n";
  CHECK(run(text, {arange({2, 3}), Tensor::from_vector<int64_t>({2}, {3, 2})})[0].to_int_vector() ==
        std::vector<int64_t>{2, 1, 0, 4, 3, 5});
  CHECK_THROWS_WITH_AS(
      run(text, {arange({2, 3}), Tensor::from_vector<int64_t>({2}, {4, 2})}),
      doctest::Contains("node 'y' (ReverseSequence): sequence length 4 is outside [0, 3]"), Error);
}

TEST_CASE("Compress: along an axis, and over the flattened input without one") {
  const auto y =
      run("graph t opset=11\ninput %x i64[2,3]\nconst @c bool[3] [true, false, true]\n"
          "%y i64[?] = Compress %x, @c axis=1\nreturn %y\n",
          {arange({2, 3})});
  CHECK(y[0].dims() == Dims{2, 2});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{0, 2, 3, 5});
  const auto flat =
      run("graph t opset=11\ninput %x i64[2,3]\nconst @c bool[6] [false, true, true, false, false, "
          "true]\n"
          "%y i64[?] = Compress %x, @c\nreturn %y\n",
          {arange({2, 3})});
  CHECK(flat[0].to_int_vector() == std::vector<int64_t>{1, 2, 5});
}

TEST_CASE(
    "Compress: a run-time condition leaves the size unknown; true past the axis is an error") {
  const std::string text =
      "graph t opset=11\ninput %x i64[2,3]\ninput %c bool[?]\n"
      "%y i64[?] = Compress %x, %c axis=0\nreturn %y\n";
  Graph g = parse_ir(text);
  infer_types(g);
  CHECK(to_string(g.type(g.find("y"))) == "i64[?,3]");
  CHECK(run(text, {arange({2, 3}), Tensor::from_vector<bool>({1}, {true})})[0].dims() ==
        Dims{1, 3});
  CHECK_THROWS_WITH_AS(
      run(text, {arange({2, 3}), Tensor::from_vector<bool>({3}, {false, false, true})}),
      doctest::Contains("condition is true at 2 but the axis has only 2 slices"), Error);
}
