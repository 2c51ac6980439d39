// Tests for ops/binary.cpp. Expected values are hand-computed or from numpy (noted).
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

// `%y = OP %a, %b ATTRS` with the given types.
std::string two_inputs(const std::string& op, const std::string& a, const std::string& b,
                       const std::string& out, const std::string& attrs = "", int opset = 17) {
  return "graph t opset=" + std::to_string(opset) + "\ninput %a " + a + "\ninput %b " + b +
         "\n%y " + out + " = " + op + " %a, %b " + attrs + "\nreturn %y\n";
}

}  // namespace

TEST_CASE("Add: broadcasts a row across a matrix, numpy style") {
  const auto y = run(two_inputs("Add", "f32[2,3]", "f32[3]", "f32[2,3]"),
                     {Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                      Tensor::from_vector<float>({3}, {10, 20, 30})});
  CHECK(y[0].dims() == Dims{2, 3});
  CHECK(y[0].to_double_vector() == std::vector<double>{11, 22, 33, 14, 25, 36});
}

TEST_CASE("Mul: per-channel scale [1,C,H,W] * [1,C,1,1] and a scalar on the left") {
  std::vector<float> x(2 * 2 * 3);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  const auto y = run(two_inputs("Mul", "f32[1,2,2,3]", "f32[1,2,1,1]", "f32[1,2,2,3]"),
                     {Tensor::from_vector<float>({1, 2, 2, 3}, x),
                      Tensor::from_vector<float>({1, 2, 1, 1}, {1, -1})});
  CHECK(y[0].to_double_vector() == std::vector<double>{0, 1, 2, 3, 4, 5, -6, -7, -8, -9, -10, -11});
  const auto s = run(two_inputs("Sub", "f32[]", "f32[2]", "f32[2]"),
                     {Tensor::scalar<float>(1), Tensor::from_vector<float>({2}, {3, 4})});
  CHECK(s[0].to_double_vector() == std::vector<double>{-2, -3});
}

TEST_CASE("Add: a [3,1] column and a [1,4] row broadcast to [3,4]") {
  const auto y = run(two_inputs("Add", "i32[3,1]", "i32[1,4]", "i32[3,4]"),
                     {Tensor::from_vector<int32_t>({3, 1}, {0, 10, 20}),
                      Tensor::from_vector<int32_t>({1, 4}, {1, 2, 3, 4})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24});
}

TEST_CASE("Add: int64 is exact beyond 2^53") {
  const int64_t big = (int64_t(1) << 53) + 1;
  const auto y =
      run(two_inputs("Add", "i64[1]", "i64[1]", "i64[1]"),
          {Tensor::from_vector<int64_t>({1}, {big}), Tensor::from_vector<int64_t>({1}, {1})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{big + 1});
}

TEST_CASE("Div: integer division truncates toward zero, and division by zero is an error") {
  const auto y =
      run(two_inputs("Div", "i32[2]", "i32[2]", "i32[2]"),
          {Tensor::from_vector<int32_t>({2}, {7, -7}), Tensor::from_vector<int32_t>({2}, {2, 2})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{3, -3});
  CHECK_THROWS_WITH_AS(
      run(two_inputs("Div", "i32[1]", "i32[1]", "i32[1]"),
          {Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<int32_t>({1}, {0})}),
      doctest::Contains("node 'y' (Div): integer division by zero"), Error);
}

TEST_CASE("Mod: fmod=0 takes the divisor's sign like Python, fmod=1 the dividend's like C") {
  const std::vector<Tensor> in{Tensor::from_vector<int64_t>({4}, {-7, 7, -7, 7}),
                               Tensor::from_vector<int64_t>({4}, {3, -3, -3, 3})};
  // numpy: np.mod -> [2, -2, -1, 1]; np.fmod -> [-1, 1, -1, 1]
  CHECK(run(two_inputs("Mod", "i64[4]", "i64[4]", "i64[4]"), in)[0].to_int_vector() ==
        std::vector<int64_t>{2, -2, -1, 1});
  CHECK(run(two_inputs("Mod", "i64[4]", "i64[4]", "i64[4]", "fmod=1"), in)[0].to_int_vector() ==
        std::vector<int64_t>{-1, 1, -1, 1});
  const auto f =
      run(two_inputs("Mod", "f32[1]", "f32[1]", "f32[1]", "fmod=1"),
          {Tensor::from_vector<float>({1}, {-7.5f}), Tensor::from_vector<float>({1}, {2})});
  CHECK(f[0].to_double_vector() == std::vector<double>{-1.5});
  CHECK_THROWS_WITH_AS(
      run(two_inputs("Mod", "i32[1]", "i32[1]", "i32[1]"),
          {Tensor::from_vector<int32_t>({1}, {1}), Tensor::from_vector<int32_t>({1}, {0})}),
      doctest::Contains("integer modulo by zero"), Error);
}

TEST_CASE("Pow: integer base and exponent are exact; the output has the base's type") {
  const auto y = run(two_inputs("Pow", "i64[3]", "i64[3]", "i64[3]"),
                     {Tensor::from_vector<int64_t>({3}, {3, 2, -2}),
                      Tensor::from_vector<int64_t>({3}, {4, 62, 3})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{81, int64_t(1) << 62, -8});
  const auto f =
      run(two_inputs("Pow", "f32[2]", "i32[1]", "f32[2]"),
          {Tensor::from_vector<float>({2}, {1.5f, -2}), Tensor::from_vector<int32_t>({1}, {2})});
  CHECK(f[0].dtype() == DType::F32);
  CHECK(f[0].to_double_vector() == std::vector<double>{2.25, 4});
}

TEST_CASE("PRelu: the slope broadcasts to X; opset 6's per-channel slope applies along axis 1") {
  const auto y = run(two_inputs("PRelu", "f32[2,2]", "f32[2]", "f32[2,2]"),
                     {Tensor::from_vector<float>({2, 2}, {-1, 2, -3, -4}),
                      Tensor::from_vector<float>({2}, {0.5f, 0.25f})});
  CHECK(y[0].to_double_vector() == std::vector<double>{-0.5, 2, -1.5, -1});
  // channel_slope=1 is what the importer's upgrade sets for opset < 7.
  const auto c = run(two_inputs("PRelu", "f32[1,2,2]", "f32[2]", "f32[1,2,2]", "channel_slope=1"),
                     {Tensor::from_vector<float>({1, 2, 2}, {-1, -2, -3, -4}),
                      Tensor::from_vector<float>({2}, {0.5f, 0.25f})});
  CHECK(c[0].to_double_vector() == std::vector<double>{-0.5, -1, -0.75, -1});
}

TEST_CASE("Less: compares elementwise into bool; And/Xor combine bools") {
  const auto y = run(two_inputs("Less", "f32[3]", "f32[]", "bool[3]"),
                     {Tensor::from_vector<float>({3}, {1, 2, 3}), Tensor::scalar<float>(2)});
  CHECK(y[0].dtype() == DType::Bool);
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{1, 0, 0});
  const std::vector<Tensor> in{Tensor::from_vector<bool>({4}, {false, false, true, true}),
                               Tensor::from_vector<bool>({4}, {false, true, false, true})};
  CHECK(run(two_inputs("And", "bool[4]", "bool[4]", "bool[4]"), in)[0].to_int_vector() ==
        std::vector<int64_t>{0, 0, 0, 1});
  CHECK(run(two_inputs("Xor", "bool[4]", "bool[4]", "bool[4]"), in)[0].to_int_vector() ==
        std::vector<int64_t>{0, 1, 1, 0});
}

TEST_CASE("BitShift: shifts unsigned integers; shifting by the width or more gives 0") {
  const std::vector<Tensor> in{Tensor::from_vector<uint8_t>({3}, {1, 255, 16}),
                               Tensor::from_vector<uint8_t>({3}, {3, 8, 2})};
  CHECK(run(two_inputs("BitShift", "u8[3]", "u8[3]", "u8[3]", "direction=\"LEFT\""), in)[0]
            .to_int_vector() == std::vector<int64_t>{8, 0, 64});
  CHECK(run(two_inputs("BitShift", "u8[3]", "u8[3]", "u8[3]", "direction=\"RIGHT\""), in)[0]
            .to_int_vector() == std::vector<int64_t>{0, 0, 4});
}

TEST_CASE("Add: f16 is computed in f32 and rounded once") {
  const auto y = run(two_inputs("Add", "f16[1]", "f16[1]", "f16[1]"),
                     {Tensor::from_vector<float>({1}, {1.5f}).cast(DType::F16),
                      Tensor::from_vector<float>({1}, {0.25f}).cast(DType::F16)});
  CHECK(y[0].dtype() == DType::F16);
  CHECK(y[0].to_double_vector() == std::vector<double>{1.75});
}

TEST_CASE("Add: shapes that do not broadcast and mixed types are errors naming the node") {
  CHECK_THROWS_WITH_AS(run(two_inputs("Add", "f32[2,3]", "f32[4]", "f32[2,3]"), {}),
                       doctest::Contains("node 'y' (Add): shapes [2,3] and [4] do not broadcast"),
                       Error);
  CHECK_THROWS_WITH_AS(run(two_inputs("Add", "f32[2]", "i32[2]", "f32[2]"), {}),
                       doctest::Contains("(Add): inputs have different types, f32 and i32"), Error);
}

TEST_CASE("Add: opset 6's `axis` is accepted only where it means numpy's trailing alignment") {
  // legacy_axis is what the importer's upgrade writes for an opset-6 `axis`.
  const auto y = run(two_inputs("Add", "f32[2,3]", "f32[3]", "f32[2,3]", "legacy_axis=1", 6),
                     {Tensor::from_vector<float>({2, 3}, {0, 0, 0, 1, 1, 1}),
                      Tensor::from_vector<float>({3}, {1, 2, 3})});
  CHECK(y[0].to_double_vector() == std::vector<double>{1, 2, 3, 2, 3, 4});
  CHECK_THROWS_WITH_AS(
      run(two_inputs("Add", "f32[2,3]", "f32[2]", "f32[2,3]", "legacy_axis=0", 6), {}),
      doctest::Contains("opset < 7 broadcast"), Error);
}
