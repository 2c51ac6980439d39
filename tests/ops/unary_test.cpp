// Tests for ops/unary.cpp. Expected values are hand-computed or from numpy/math (noted).
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

// A one-node graph `%y = OP %x ATTRS` over a 1-D input of n elements.
std::string one_node(const std::string& op, const std::string& in_type, const std::string& out_type,
                     const std::string& attrs = "") {
  return "graph t opset=17\ninput %x " + in_type + "\n%y " + out_type + " = " + op + " %x " +
         attrs + "\nreturn %y\n";
}

void check_close(const Tensor& t, const std::vector<double>& expected, double tolerance = 1e-6) {
  const std::vector<double> got = t.to_double_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    if (std::isnan(expected[i]))
      CHECK(std::isnan(got[i]));
    else
      CHECK(got[i] == doctest::Approx(expected[i]).epsilon(tolerance));
  }
}

}  // namespace

TEST_CASE("Relu: zeroes negatives for floats and, exactly, for integers") {
  const auto f = run(one_node("Relu", "f32[4]", "f32[4]"),
                     {Tensor::from_vector<float>({4}, {-1.5f, 0, 2.5f, -0.0f})});
  check_close(f[0], {0, 0, 2.5, 0});
  const int64_t big = (int64_t(1) << 62) + 1;  // not representable in double
  const auto i = run(one_node("Relu", "i64[3]", "i64[3]"),
                     {Tensor::from_vector<int64_t>({3}, {big, -big, 7})});
  CHECK(i[0].to_int_vector() == std::vector<int64_t>{big, 0, 7});
}

TEST_CASE("Abs: integer inputs stay exact, and the most negative int8 wraps as in numpy") {
  const int64_t big = -((int64_t(1) << 62) + 1);
  const auto y =
      run(one_node("Abs", "i64[2]", "i64[2]"), {Tensor::from_vector<int64_t>({2}, {big, 5})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{-big, 5});
  const auto n =
      run(one_node("Neg", "i8[2]", "i8[2]"), {Tensor::from_vector<int8_t>({2}, {-128, 5})});
  CHECK(n[0].to_int_vector() == std::vector<int64_t>{-128, -5});
}

TEST_CASE("Round: halves go to the even neighbour") {
  const auto y = run(one_node("Round", "f32[6]", "f32[6]"),
                     {Tensor::from_vector<float>({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f})});
  check_close(y[0], {0, 2, 2, 0, -2, 2});
}

TEST_CASE("LeakyRelu: default alpha is 0.01; Selu and Mish match their definitions") {
  check_close(
      run(one_node("LeakyRelu", "f32[2]", "f32[2]"), {Tensor::from_vector<float>({2}, {-2, 3})})[0],
      {-0.02, 3});
  // numpy: 1.0507010 * 1.6732632 * (exp(-1) - 1)
  check_close(
      run(one_node("Selu", "f32[2]", "f32[2]"), {Tensor::from_vector<float>({2}, {-1, 2})})[0],
      {-1.1113307412864784, 2 * 1.05070102214813232421875});
  // numpy: tanh(log1p(exp(1)))
  check_close(run(one_node("Mish", "f32[1]", "f32[1]"), {Tensor::from_vector<float>({1}, {1})})[0],
              {0.8650983882673103});
}

TEST_CASE("Gelu: exact erf form by default, tanh approximation on request") {
  const Tensor x = Tensor::from_vector<float>({2}, {1.0f, -0.5f});
  // math.erf: 0.5 x (1 + erf(x / sqrt 2))
  check_close(run(one_node("Gelu", "f32[2]", "f32[2]"), {x})[0],
              {0.8413447460685429, -0.15426876936299344});
  check_close(run(one_node("Gelu", "f32[1]", "f32[1]", "approximate=\"tanh\""),
                  {Tensor::from_vector<float>({1}, {1.0f})})[0],
              {0.8411919906082768});
  CHECK_THROWS_WITH_AS(run(one_node("Gelu", "f32[2]", "f32[2]", "approximate=\"fast\""), {x}),
                       doctest::Contains("(Gelu): approximate must be"), Error);
}

TEST_CASE("IsInf: detects each sign only when asked; IsNaN marks NaN; both output bool") {
  const Tensor x = Tensor::from_vector<float>({4}, {-INFINITY, INFINITY, 1.0f, NAN});
  const auto both = run(one_node("IsInf", "f32[4]", "bool[4]"), {x});
  CHECK(both[0].dtype() == DType::Bool);
  CHECK(both[0].to_int_vector() == std::vector<int64_t>{1, 1, 0, 0});
  const auto positive = run(one_node("IsInf", "f32[4]", "bool[4]", "detect_negative=0"), {x});
  CHECK(positive[0].to_int_vector() == std::vector<int64_t>{0, 1, 0, 0});
  const auto nan = run(one_node("IsNaN", "f32[4]", "bool[4]"), {x});
  CHECK(nan[0].to_int_vector() == std::vector<int64_t>{0, 0, 0, 1});
}

TEST_CASE("Not and BitwiseNot: flip bools and bits") {
  const auto n =
      run(one_node("Not", "bool[2]", "bool[2]"), {Tensor::from_vector<bool>({2}, {true, false})});
  CHECK(n[0].to_int_vector() == std::vector<int64_t>{0, 1});
  const auto b =
      run(one_node("BitwiseNot", "u8[2]", "u8[2]"), {Tensor::from_vector<uint8_t>({2}, {0x0f, 0})});
  CHECK(b[0].to_int_vector() == std::vector<int64_t>{0xf0, 0xff});
}

TEST_CASE("Sigmoid and Softplus: stay finite for large magnitudes") {
  const auto s = run(one_node("Sigmoid", "f32[3]", "f32[3]"),
                     {Tensor::from_vector<float>({3}, {-1000, 0, 1000})});
  check_close(s[0], {0, 0.5, 1});
  const auto p = run(one_node("Softplus", "f32[2]", "f32[2]"),
                     {Tensor::from_vector<float>({2}, {1000, -1000})});
  check_close(p[0], {1000, 0});
}

TEST_CASE("Sqrt: refuses integer input, naming the node") {
  CHECK_THROWS_WITH_AS(
      run(one_node("Sqrt", "i32[2]", "i32[2]"), {Tensor::from_vector<int32_t>({2}, {4, 9})}),
      doctest::Contains("node 'y' (Sqrt): Sqrt does not accept input type i32"), Error);
}

TEST_CASE("Exp: f16 input is computed in higher precision and rounded once") {
  const Tensor x = Tensor::from_vector<float>({2}, {0.0f, 1.0f}).cast(DType::F16);
  const auto y = run(one_node("Exp", "f16[2]", "f16[2]"), {x});
  CHECK(y[0].dtype() == DType::F16);
  check_close(y[0], {1.0, 2.71875}, 1e-9);  // e rounded to binary16 is 2.71875
}
