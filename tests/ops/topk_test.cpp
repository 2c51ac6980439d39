// Tests for ops/topk.cpp. Expected values are hand-computed.
#include <doctest/doctest.h>

#include <cmath>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::vector<Tensor> top_k(const std::string& x_type, int64_t k, const std::string& out_type,
                          const std::string& attrs, const Tensor& x) {
  Graph g =
      parse_ir("graph t opset=11\ninput %x " + x_type + "\nconst @k i64[1] [" + std::to_string(k) +
               "]\n%v, %i " + out_type + ", i64" + out_type.substr(out_type.find('[')) +
               " = TopK %x, @k " + attrs + "\nreturn %v, %i\n");
  infer_types(g);
  return run_reference(g, std::vector<Tensor>{x});
}
}  // namespace

TEST_CASE("TopK: largest values along the last axis, ties to the lower index") {
  const Tensor x = Tensor::from_vector<float>({2, 4}, {1, 5, 3, 5, 0, -1, 2, 2});
  const auto out = top_k("f32[2,4]", 2, "f32[2,2]", "", x);
  CHECK(out[0].to_double_vector() == std::vector<double>{5, 5, 2, 2});
  CHECK(out[1].to_int_vector() == std::vector<int64_t>{1, 3, 2, 3});
}

TEST_CASE("TopK: smallest values along axis 0") {
  const Tensor x = Tensor::from_vector<int64_t>({3, 2}, {4, 1, 2, 3, 2, 0});
  const auto out = top_k("i64[3,2]", 2, "i64[2,2]", "axis=0 largest=0", x);
  CHECK(out[0].to_int_vector() == std::vector<int64_t>{2, 0, 2, 1});
  CHECK(out[1].to_int_vector() == std::vector<int64_t>{1, 2, 2, 0});
}

TEST_CASE("TopK: NaN ranks above every number") {
  const Tensor x = Tensor::from_vector<float>({3}, {1, NAN, 2});
  const auto out = top_k("f32[3]", 2, "f32[2]", "", x);
  CHECK(out[1].to_int_vector() == std::vector<int64_t>{1, 2});
  CHECK(std::isnan(out[0].to_double_vector()[0]));
}

TEST_CASE("TopK: K larger than the axis is an error naming the node") {
  const Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3});
  CHECK_THROWS_WITH_AS(top_k("f32[3]", 4, "f32[4]", "", x),
                       doctest::Contains("(TopK): K is 4 but axis 0 has only 3 elements"), Error);
}
