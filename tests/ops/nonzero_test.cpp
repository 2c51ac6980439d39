// Tests for ops/nonzero.cpp. Expected values are from numpy.nonzero.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

TEST_CASE("NonZero: one row of coordinates per axis, in row-major order") {
  Graph g = parse_ir("graph t opset=13\ninput %x f32[3,2]\n%y i64[?] = NonZero %x\nreturn %y\n");
  infer_types(g);
  CHECK(to_string(g.type(g.find("y"))) == "i64[2,?]");
  const auto y =
      run_reference(g, std::vector<Tensor>{Tensor::from_vector<float>({3, 2}, {0, 3, 4, 0, 0, 5})});
  CHECK(y[0].dims() == Dims{2, 3});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{0, 1, 2, 1, 0, 1});
}

TEST_CASE("NonZero: a constant input gives a known count") {
  Graph g = parse_ir(
      "graph t opset=13\nconst @x bool[4] [true, false, true, true]\n%y i64[?] = NonZero "
      "@x\nreturn %y\n");
  infer_types(g);
  CHECK(to_string(g.type(g.find("y"))) == "i64[1,3]");
}
