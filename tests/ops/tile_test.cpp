// Tests for ops/tile.cpp. Expected values are from numpy.tile(arange(6).reshape(2, 3), (2, 2)).
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

TEST_CASE("Tile: repeats each axis") {
  Graph g = parse_ir(
      "graph t opset=13\ninput %x i64[2,3]\nconst @r i64[2] [2, 2]\n%y i64[?] = Tile %x, "
      "@r\nreturn %y\n");
  infer_types(g);
  CHECK(to_string(g.type(g.find("y"))) == "i64[4,6]");
  const auto y = run_reference(
      g, std::vector<Tensor>{Tensor::from_vector<int64_t>({2, 3}, {0, 1, 2, 3, 4, 5})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5,
                                                     0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
}

TEST_CASE("Tile: a symbolic dim repeated once stays; zero repeats give an empty axis") {
  Graph g = parse_ir(
      "graph t opset=13\ninput %x f32[N,3]\nconst @r i64[2] [1, 0]\n%y f32[?] = Tile %x, "
      "@r\nreturn %y\n");
  infer_types(g);
  CHECK(to_string(g.type(g.find("y"))) == "f32[N,0]");
}

TEST_CASE("Tile: repeats must have one non-negative count per axis") {
  auto infer = [](const std::string& repeats) {
    Graph g = parse_ir("graph t opset=13\ninput %x f32[2,3]\nconst @r " + repeats +
                       "\n%y f32[?] = Tile %x, @r\nreturn %y\n");
    infer_types(g);
  };
  CHECK_THROWS_WITH_AS(
      infer("i64[1] [2]"),
      doctest::Contains("node 'y' (Tile): repeats [2] has 1 entries but the input has rank 2"),
      Error);
  CHECK_THROWS_WITH_AS(infer("i64[2] [1, -1]"),
                       doctest::Contains("repeats [1,-1] has a negative count"), Error);
}
