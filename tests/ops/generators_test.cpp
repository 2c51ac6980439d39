// Tests for ops/generators.cpp. Expected values are hand-computed or from numpy.arange.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::vector<Tensor> run(const std::string& text, std::vector<Tensor> inputs = {}) {
  Graph g = parse_ir(text);
  infer_types(g);
  return run_reference(g, inputs);
}

std::string inferred(const std::string& text) {
  Graph g = parse_ir(text);
  infer_types(g);
  return to_string(g.type(g.find("y")));
}
}  // namespace

TEST_CASE("Constant: value_ints and value_float attributes") {
  CHECK(run("graph t opset=13\n%y i64[2] = Constant value_ints=[4,-5]\nreturn %y\n")[0]
            .to_int_vector() == std::vector<int64_t>{4, -5});
  const auto f = run("graph t opset=13\n%y f32[] = Constant value_float=2.5\nreturn %y\n");
  CHECK(f[0].dims().empty());
  CHECK(f[0].to_double_vector() == std::vector<double>{2.5});
  CHECK_THROWS_WITH_AS(
      run("graph t opset=13\n%y f32[] = Constant value_float=2.5 value_int=1\nreturn %y\n"),
      doctest::Contains("node 'y' (Constant): needs exactly one value attribute, got 2"), Error);
}

TEST_CASE("ConstantOfShape: f32 zeros by default; unknown shape values keep the rank") {
  const auto y =
      run("graph t opset=9\nconst @s i64[2] [2, 1]\n%y f32[2,1] = ConstantOfShape @s\nreturn %y\n");
  CHECK(y[0].dims() == Dims{2, 1});
  CHECK(y[0].to_double_vector() == std::vector<double>{0, 0});
  CHECK(inferred("graph t opset=9\ninput %s i64[3]\n%y f32[?] = ConstantOfShape %s\nreturn %y\n") ==
        "f32[?,?,?]");
  CHECK_THROWS_WITH_AS(
      inferred(
          "graph t opset=9\nconst @s i64[2] [2, -1]\n%y f32[?] = ConstantOfShape @s\nreturn %y\n"),
      doctest::Contains("negative dimension"), Error);
}

TEST_CASE("Range: integer and float ranges, empty when the delta points away") {
  auto range = [](const std::string& type, const std::string& start, const std::string& limit,
                  const std::string& delta) {
    return run("graph t opset=11\nconst @a " + type + "[] [" + start + "]\nconst @b " + type +
               "[] [" + limit + "]\nconst @c " + type + "[] [" + delta + "]\n%y " + type +
               "[?] = Range @a, @b, @c\nreturn %y\n")[0];
  };
  CHECK(range("i32", "10", "1", "-3").to_int_vector() == std::vector<int64_t>{10, 7, 4});
  const std::vector<double> f = range("f32", "1", "2", "0.3").to_double_vector();
  REQUIRE(f.size() == 4);
  CHECK(f[3] == doctest::Approx(1.9));
  CHECK(range("i64", "0", "5", "-1").numel() == 0);
  CHECK_THROWS_WITH_AS(range("i64", "0", "5", "0"),
                       doctest::Contains("node 'y' (Range): delta is 0"), Error);
}

TEST_CASE("OneHot: negative indices count from depth; out of range gives an all-off row") {
  const std::string consts =
      "const @i i64[3] [1, -1, 5]\nconst @d i64[] [3]\nconst @v i32[2] [0, 7]\n";
  CHECK(run("graph t opset=11\n" + consts + "%y i32[?] = OneHot @i, @d, @v\nreturn %y\n")[0]
            .to_int_vector() == std::vector<int64_t>{0, 7, 0, 0, 0, 7, 0, 0, 0});
  CHECK(run("graph t opset=11\n" + consts + "%y i32[?] = OneHot @i, @d, @v axis=0\nreturn %y\n")[0]
            .to_int_vector() == std::vector<int64_t>{0, 0, 0, 7, 0, 0, 0, 7, 0});
}

TEST_CASE("EyeLike: ones on diagonal k, in the dtype asked for") {
  const std::string text =
      "graph t opset=9\ninput %x i32[2,3]\n%y f64[2,3] = EyeLike %x dtype=11 k=1\nreturn %y\n";
  const auto y = run(text, {Tensor(DType::I32, {2, 3})});
  CHECK(y[0].dtype() == DType::F64);
  CHECK(y[0].to_double_vector() == std::vector<double>{0, 1, 0, 0, 0, 1});
  CHECK(run("graph t opset=9\ninput %x i32[2,3]\n%y i32[2,3] = EyeLike %x k=-1\nreturn %y\n",
            {Tensor(DType::I32, {2, 3})})[0]
            .to_int_vector() == std::vector<int64_t>{0, 0, 0, 1, 0, 0});
}
