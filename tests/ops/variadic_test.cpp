// Tests for ops/variadic.cpp (Max, Min, Mean, Sum). Expected values are hand-computed.
#include <doctest/doctest.h>

#include <cmath>

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

constexpr const char* kThreeInputs = R"(graph t opset=17
input %a {0}[2,3]
input %b {0}[3]
input %c {0}[2,1]
%y {0}[2,3] = {1} %a, %b, %c
return %y
)";

std::string three_inputs(const std::string& op, const std::string& dtype = "f32") {
  return fmt::format(kThreeInputs, dtype, op);
}

std::vector<Tensor> three_values() {
  return {Tensor::from_vector<float>({2, 3}, {1, 5, 3, 4, 2, 6}),
          Tensor::from_vector<float>({3}, {2, 2, 2}), Tensor::from_vector<float>({2, 1}, {0, 10})};
}

}  // namespace

TEST_CASE("Max: folds three inputs broadcast to one shape") {
  const auto y = run(three_inputs("Max"), three_values());
  CHECK(y[0].dims() == Dims{2, 3});
  CHECK(y[0].to_double_vector() == std::vector<double>{2, 5, 3, 10, 10, 10});
}

TEST_CASE("Min, Sum, Mean: the same inputs, other folds") {
  CHECK(run(three_inputs("Min"), three_values())[0].to_double_vector() ==
        std::vector<double>{0, 0, 0, 2, 2, 2});
  CHECK(run(three_inputs("Sum"), three_values())[0].to_double_vector() ==
        std::vector<double>{3, 7, 5, 16, 14, 18});
  const std::vector<double> mean = run(three_inputs("Mean"), three_values())[0].to_double_vector();
  const std::vector<double> expected{1, 7.0 / 3, 5.0 / 3, 16.0 / 3, 14.0 / 3, 6};
  REQUIRE(mean.size() == expected.size());
  for (size_t i = 0; i < mean.size(); ++i)
    CHECK(mean[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

TEST_CASE("Max: one input is the identity, and NaN propagates as in numpy") {
  const auto one = run(R"(graph t opset=17
input %a f32[2]
%y f32[2] = Max %a
return %y
)",
                       {Tensor::from_vector<float>({2}, {NAN, 1})});
  CHECK(std::isnan(one[0].to_double_vector()[0]));
  const auto two =
      run(R"(graph t opset=17
input %a f32[2]
input %b f32[2]
%y f32[2] = Max %a, %b
return %y
)",
          {Tensor::from_vector<float>({2}, {NAN, 1}), Tensor::from_vector<float>({2}, {3, NAN})});
  CHECK(std::isnan(two[0].to_double_vector()[0]));
  CHECK(std::isnan(two[0].to_double_vector()[1]));
}

TEST_CASE("Min: int64 compares exactly beyond 2^53") {
  const int64_t big = (int64_t(1) << 60) + 1;
  const auto y =
      run(R"(graph t opset=17
input %a i64[1]
input %b i64[1]
%y i64[1] = Min %a, %b
return %y
)",
          {Tensor::from_vector<int64_t>({1}, {big}), Tensor::from_vector<int64_t>({1}, {big + 1})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{big});
}

TEST_CASE("Sum: inputs of different types are an error naming the node") {
  CHECK_THROWS_WITH_AS(
      run(R"(graph t opset=17
input %a f32[1]
input %b f64[1]
%y f32[1] = Sum %a, %b
return %y
)",
          {}),
      doctest::Contains("node 'y' (Sum): input 1 has type f64 but input 0 has f32"), Error);
}
