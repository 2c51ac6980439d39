// Tests for ops/trilu.cpp. Expected values are from numpy.triu / numpy.tril on
// arange(12).reshape(3, 4).
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
Tensor trilu(const std::string& attrs, const std::string& k) {
  Graph g = parse_ir("graph t opset=14\ninput %x i64[3,4]\n" +
                     (k.empty() ? "" : "const @k i64[] [" + k + "]\n") + "%y i64[3,4] = Trilu %x" +
                     (k.empty() ? "" : ", @k") + " " + attrs + "\nreturn %y\n");
  infer_types(g);
  Tensor x(DType::I64, {3, 4});
  for (int64_t i = 0; i < 12; ++i) x.data<int64_t>()[i] = i;
  return run_reference(g, std::vector<Tensor>{x})[0];
}
}  // namespace

TEST_CASE("Trilu: upper with k=1 and lower with k=-1") {
  CHECK(trilu("", "1").to_int_vector() ==
        std::vector<int64_t>{0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11});
  CHECK(trilu("upper=0", "-1").to_int_vector() ==
        std::vector<int64_t>{0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0});
  CHECK(trilu("upper=0", "").to_int_vector() ==
        std::vector<int64_t>{0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0});
}

TEST_CASE("Trilu: a diagonal far outside the matrix keeps everything or nothing") {
  CHECK(trilu("", "-10").to_int_vector() ==
        std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  CHECK(trilu("", "10").to_int_vector() == std::vector<int64_t>(12, 0));
}

TEST_CASE("Trilu: needs a matrix") {
  Graph g = parse_ir("graph t opset=14\ninput %x f32[3]\n%y f32[3] = Trilu %x\nreturn %y\n");
  CHECK_THROWS_WITH_AS(infer_types(g),
                       doctest::Contains("node 'y' (Trilu): input 0 f32[3] must have rank >= 2"),
                       Error);
}
