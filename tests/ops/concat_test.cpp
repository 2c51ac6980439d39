// Tests for ops/concat.cpp. Expected values are hand-computed.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::string inferred(const std::string& a, const std::string& b, int axis) {
  Graph g = parse_ir("graph t opset=13\ninput %a " + a + "\ninput %b " + b +
                     "\n%y f32[?] = Concat %a, %b axis=" + std::to_string(axis) + "\nreturn %y\n");
  infer_types(g);
  return to_string(g.type(g.find("y")));
}
}  // namespace

TEST_CASE("Concat: joins along the axis, block by block") {
  Graph g = parse_ir(
      "graph t opset=13\ninput %a f32[2,1]\ninput %b f32[2,2]\n%y f32[2,3] = Concat %a, %b "
      "axis=-1\nreturn %y\n");
  infer_types(g);
  const auto y =
      run_reference(g, std::vector<Tensor>{Tensor::from_vector<float>({2, 1}, {1, 2}),
                                           Tensor::from_vector<float>({2, 2}, {3, 4, 5, 6})});
  CHECK(y[0].dims() == Dims{2, 3});
  CHECK(y[0].to_double_vector() == std::vector<double>{1, 3, 4, 2, 5, 6});
}

TEST_CASE("Concat: empty inputs contribute nothing") {
  Graph g = parse_ir(
      "graph t opset=13\ninput %a i64[0]\ninput %b i64[2]\n%y i64[2] = Concat %a, %b "
      "axis=0\nreturn %y\n");
  infer_types(g);
  const auto y = run_reference(
      g, std::vector<Tensor>{Tensor(DType::I64, {0}), Tensor::from_vector<int64_t>({2}, {7, 8})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{7, 8});
}

TEST_CASE("Concat: known sizes add, symbolic ones make the sum unknown, other dims prefer known") {
  CHECK(inferred("f32[N,2]", "f32[N,3]", 1) == "f32[N,5]");
  CHECK(inferred("f32[N,2]", "f32[3,2]", 0) == "f32[?,2]");
  CHECK(inferred("f32[N,2]", "f32[4,3]", 1) == "f32[4,5]");
}

TEST_CASE("Concat: dims other than the axis must match, and ranks too") {
  CHECK_THROWS_WITH_AS(
      inferred("f32[2,2]", "f32[3,2]", 1),
      doctest::Contains(
          "node 'y' (Concat): input 1 is f32[3,2] but input 0 is f32[2,2]; only axis 1 may differ"),
      Error);
  CHECK_THROWS_WITH_AS(inferred("f32[2,2]", "f32[2]", 0), doctest::Contains("input 1 has rank 1"),
                       Error);
  CHECK_THROWS_WITH_AS(inferred("f32[2,2]", "f32[2,2]", 2),
                       doctest::Contains("axis 2 is out of range"), Error);
}
