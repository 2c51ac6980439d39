// Tests for ops/cumsum.cpp. Expected values are hand-computed.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::vector<Tensor> cumsum(const std::string& type, int axis, const std::string& attrs,
                           const Tensor& x) {
  Graph g = parse_ir("graph t opset=14\ninput %x " + type + "\nconst @axis i32[] [" +
                     std::to_string(axis) + "]\n%y " + type + " = CumSum %x, @axis " + attrs +
                     "\nreturn %y\n");
  infer_types(g);
  return run_reference(g, std::vector<Tensor>{x});
}
}  // namespace

TEST_CASE("CumSum: inclusive, exclusive, reverse and both") {
  const Tensor x = Tensor::from_vector<float>({4}, {1, 2, 3, 4});
  CHECK(cumsum("f32[4]", 0, "", x)[0].to_double_vector() == std::vector<double>{1, 3, 6, 10});
  CHECK(cumsum("f32[4]", 0, "exclusive=1", x)[0].to_double_vector() ==
        std::vector<double>{0, 1, 3, 6});
  CHECK(cumsum("f32[4]", 0, "reverse=1", x)[0].to_double_vector() ==
        std::vector<double>{10, 9, 7, 4});
  CHECK(cumsum("f32[4]", 0, "exclusive=1 reverse=1", x)[0].to_double_vector() ==
        std::vector<double>{9, 7, 4, 0});
}

TEST_CASE("CumSum: along the last axis of a matrix, exact for int64") {
  const int64_t big = int64_t(1) << 60;
  const Tensor x = Tensor::from_vector<int64_t>({2, 2}, {big, 1, 2, 3});
  CHECK(cumsum("i64[2,2]", -1, "", x)[0].to_int_vector() ==
        std::vector<int64_t>{big, big + 1, 2, 5});
}

TEST_CASE("CumSum: an axis out of range is an error naming the node") {
  const Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  CHECK_THROWS_WITH_AS(cumsum("f32[2]", 1, "", x),
                       doctest::Contains("node 'y' (CumSum): axis 1 is out of range"), Error);
}
