// Tests for ops/where.cpp. Expected values are hand-computed.
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

TEST_CASE("Where: a [2,1] condition, a [1,3] X and a scalar Y broadcast to [2,3]") {
  const auto y =
      run(R"(graph t opset=17
input %c bool[2,1]
input %x i64[1,3]
input %y i64[]
%z i64[2,3] = Where %c, %x, %y
return %z
)",
          {Tensor::from_vector<bool>({2, 1}, {true, false}),
           Tensor::from_vector<int64_t>({1, 3}, {1, 2, 3}), Tensor::scalar<int64_t>(-1)});
  CHECK(y[0].dims() == Dims{2, 3});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{1, 2, 3, -1, -1, -1});
}

TEST_CASE("Where: elementwise choice with same shapes") {
  const auto y = run(
      R"(graph t opset=17
input %c bool[3]
input %x f32[3]
input %y f32[3]
%z f32[3] = Where %c, %x, %y
return %z
)",
      {Tensor::from_vector<bool>({3}, {true, false, true}),
       Tensor::from_vector<float>({3}, {1, 2, 3}), Tensor::from_vector<float>({3}, {10, 20, 30})});
  CHECK(y[0].to_double_vector() == std::vector<double>{1, 20, 3});
}

TEST_CASE("Where: a non-bool condition and mismatched X/Y types are errors naming the node") {
  CHECK_THROWS_WITH_AS(run(R"(graph t opset=17
input %c f32[3]
input %x f32[3]
input %y f32[3]
%z f32[3] = Where %c, %x, %y
return %z
)",
                           {}),
                       doctest::Contains("node 'z' (Where): input 0 (condition) has type f32"),
                       Error);
  CHECK_THROWS_WITH_AS(run(R"(graph t opset=17
input %c bool[3]
input %x f32[3]
input %y i32[3]
%z f32[3] = Where %c, %x, %y
return %z
)",
                           {}),
                       doctest::Contains("X has type f32 but Y has i32"), Error);
}
