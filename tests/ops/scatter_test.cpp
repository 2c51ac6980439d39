// Tests for ops/scatter.cpp. Expected values are from numpy loops applying the updates in order.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::vector<Tensor> run(const std::string& text, std::vector<Tensor> inputs) {
  Graph g = parse_ir(text);
  infer_types(g);
  return run_reference(g, inputs);
}
}  // namespace

TEST_CASE("ScatterND: reduction=add accumulates repeated indices") {
  const auto y =
      run("graph t opset=16\ninput %x f32[8]\nconst @i i64[3,1] [4, 3, 4]\nconst @u f32[3] [10, "
          "20, 30]\n"
          "%y f32[8] = ScatterND %x, @i, @u reduction=\"add\"\nreturn %y\n",
          {Tensor::from_vector<float>({8}, {0, 1, 2, 3, 4, 5, 6, 7})});
  CHECK(y[0].to_double_vector() == std::vector<double>{0, 1, 2, 23, 44, 5, 6, 7});
}

TEST_CASE("ScatterND: a short tuple replaces a whole row") {
  const auto y =
      run("graph t opset=16\ninput %x i64[2,2]\nconst @i i64[1,1] [1]\nconst @u i64[1,2] [8, 9]\n"
          "%y i64[2,2] = ScatterND %x, @i, @u\nreturn %y\n",
          {Tensor::from_vector<int64_t>({2, 2}, {1, 2, 3, 4})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{1, 2, 8, 9});
}

TEST_CASE("ScatterElements: reduction=max along axis 1") {
  const auto y =
      run("graph t opset=18\ninput %x f32[2,3]\nconst @i i64[2,2] [2, 0, 1, 1]\nconst @u f32[2,2] "
          "[4, 9, -1, 6]\n"
          "%y f32[2,3] = ScatterElements %x, @i, @u axis=1 reduction=\"max\"\nreturn %y\n",
          {Tensor::from_vector<float>({2, 3}, {1, 5, 2, 7, 0, 3})});
  CHECK(y[0].to_double_vector() == std::vector<double>{9, 5, 4, 7, 6, 3});
}

TEST_CASE("ScatterElements: negative indices count from the end; out of range is an error") {
  const std::string text =
      "graph t opset=16\ninput %x i32[3]\ninput %i i64[1]\nconst @u i32[1] [7]\n"
      "%y i32[3] = ScatterElements %x, %i, @u\nreturn %y\n";
  const Tensor x = Tensor::from_vector<int32_t>({3}, {1, 2, 3});
  CHECK(run(text, {x, Tensor::from_vector<int64_t>({1}, {-1})})[0].to_int_vector() ==
        std::vector<int64_t>{1, 2, 7});
  CHECK_THROWS_WITH_AS(
      run(text, {x, Tensor::from_vector<int64_t>({1}, {3})}),
      doctest::Contains("node 'y' (ScatterElements): index 3 is out of range for axis 0 of size 3"),
      Error);
}

TEST_CASE("ScatterND: updates of the wrong shape and unknown reductions are errors") {
  CHECK_THROWS_WITH_AS(
      run("graph t opset=16\ninput %x f32[4]\nconst @i i64[2,1] [0, 1]\nconst @u f32[3] [1, 2, 3]\n"
          "%y f32[4] = ScatterND %x, @i, @u\nreturn %y\n",
          {Tensor(DType::F32, {4})}),
      doctest::Contains("updates f32[3] must have shape [2]"), Error);
  CHECK_THROWS_WITH_AS(
      run("graph t opset=16\ninput %x f32[4]\nconst @i i64[1,1] [0]\nconst @u f32[1] [1]\n"
          "%y f32[4] = ScatterND %x, @i, @u reduction=\"avg\"\nreturn %y\n",
          {Tensor(DType::F32, {4})}),
      doctest::Contains("reduction 'avg' is not one of"), Error);
}
