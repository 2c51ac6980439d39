// Tests for ops/split.cpp. Expected values are hand-computed.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::vector<Tensor> split(const std::string& text, int64_t n) {
  Graph g = parse_ir(text);
  infer_types(g);
  Tensor x(DType::F32, {2, n});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = float(i);
  return run_reference(g, std::vector<Tensor>{x});
}
}  // namespace

TEST_CASE("Split: sizes from the split input, along the last axis") {
  const auto y = split(
      "graph t opset=13\ninput %x f32[2,5]\nconst @s i64[2] [2, 3]\n"
      "%a, %b f32[2,2], f32[2,3] = Split %x, @s axis=1\nreturn %a, %b\n",
      5);
  CHECK(y[0].to_double_vector() == std::vector<double>{0, 1, 5, 6});
  CHECK(y[1].to_double_vector() == std::vector<double>{2, 3, 4, 7, 8, 9});
}

TEST_CASE("Split: equal pieces from the output count; num_outputs leaves a smaller last piece") {
  const auto even = split(
      "graph t opset=13\ninput %x f32[2,4]\n"
      "%a, %b f32[2,2], f32[2,2] = Split %x axis=1\nreturn %a, %b\n",
      4);
  CHECK(even[1].to_double_vector() == std::vector<double>{2, 3, 6, 7});
  const auto uneven = split(
      "graph t opset=18\ninput %x f32[2,5]\n"
      "%a, %b f32[?], f32[?] = Split %x axis=1 num_outputs=2\nreturn %a, %b\n",
      5);
  CHECK(uneven[0].dims() == Dims{2, 3});
  CHECK(uneven[1].to_double_vector() == std::vector<double>{3, 4, 8, 9});
}

TEST_CASE("Split: zero-size pieces are allowed") {
  const auto y = split(
      "graph t opset=13\ninput %x f32[2,2]\nconst @s i64[2] [0, 2]\n"
      "%a, %b f32[2,0], f32[2,2] = Split %x, @s axis=1\nreturn %a, %b\n",
      2);
  CHECK(y[0].dims() == Dims{2, 0});
  CHECK(y[1].to_double_vector() == std::vector<double>{0, 1, 2, 3});
}

TEST_CASE(
    "Split: sizes that do not sum to the axis, or an uneven split without sizes, are errors") {
  CHECK_THROWS_WITH_AS(
      split("graph t opset=13\ninput %x f32[2,5]\nconst @s i64[2] [2, 2]\n"
            "%a, %b f32[?], f32[?] = Split %x, @s axis=1\nreturn %a, %b\n",
            5),
      doctest::Contains("node 'a' (Split): split [2,2] sums to 4 but the axis has size 5"), Error);
  CHECK_THROWS_WITH_AS(split("graph t opset=13\ninput %x f32[2,5]\n"
                             "%a, %b f32[?], f32[?] = Split %x axis=1\nreturn %a, %b\n",
                             5),
                       doctest::Contains("does not split evenly into 2 outputs"), Error);
}
