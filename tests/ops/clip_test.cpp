// Tests for ops/clip.cpp. Expected values are hand-computed.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
// `%y = Clip %x, MIN, MAX` where MIN/MAX are IR operands ("@lo", "_" for omitted, or "").
std::vector<Tensor> clip(const std::string& type, const std::string& consts,
                         const std::string& operands, const Tensor& x) {
  Graph g = parse_ir("graph t opset=13\ninput %x " + type + "\n" + consts + "%y " + type +
                     " = Clip %x" + operands + "\nreturn %y\n");
  infer_types(g);
  return run_reference(g, std::vector<Tensor>{x});
}
}  // namespace

TEST_CASE("Clip: clamps to [min, max]; an omitted bound does not clip; NaN passes through") {
  const Tensor x = Tensor::from_vector<float>({4}, {-5, 0.5f, 5, NAN});
  const std::string bounds = "const @lo f32[] [-1.0]\nconst @hi f32[] [1.0]\n";
  const auto both = clip("f32[4]", bounds, ", @lo, @hi", x)[0].to_double_vector();
  CHECK(both[0] == -1);
  CHECK(both[1] == 0.5);
  CHECK(both[2] == 1);
  CHECK(std::isnan(both[3]));
  const auto max_only = clip("f32[4]", bounds, ", _, @hi", x)[0].to_double_vector();
  CHECK(max_only[0] == -5);
  CHECK(max_only[2] == 1);
  CHECK(clip("f32[4]", "", "", x)[0].to_double_vector()[0] == -5);
}

TEST_CASE("Clip: integer inputs clip exactly; min > max sets everything to max") {
  const Tensor x = Tensor::from_vector<int8_t>({3}, {-128, 0, 127});
  const auto y = clip("i8[3]", "const @lo i8[] [-100]\nconst @hi i8[] [100]\n", ", @lo, @hi", x);
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{-100, 0, 100});
  const auto crossed = clip("i8[3]", "const @lo i8[] [5]\nconst @hi i8[] [2]\n", ", @lo, @hi", x);
  CHECK(crossed[0].to_int_vector() == std::vector<int64_t>{2, 2, 2});
}

TEST_CASE("Clip: a bound that is not a scalar is an error naming the node") {
  const Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  CHECK_THROWS_WITH_AS(clip("f32[2]", "const @lo f32[2] [0.0, 1.0]\n", ", @lo", x),
                       doctest::Contains("node 'y' (Clip): input 1 (min) must be a scalar"), Error);
}
