// Tests for ops/shape_ops.cpp. Expected values are hand-computed.
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

// The type inference gives value %name, as IR text ("f32[N,768]").
std::string inferred(const std::string& text, const std::string& name = "y") {
  Graph g = parse_ir(text);
  infer_types(g);
  return to_string(g.type(g.find(name)));
}

ErrorKind error_kind(const std::string& text, std::vector<Tensor> inputs = {}) {
  try {
    run(text, std::move(inputs));
  } catch (const Error& e) {
    return e.kind();
  }
  FAIL("no error");
  return ErrorKind::Internal;
}

Tensor iota_f32(Dims dims) {
  Tensor t(DType::F32, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = float(i);
  return t;
}

std::string reshape_ir(const std::string& in_type, const std::string& shape,
                       const std::string& attrs = "") {
  return "graph t opset=14\ninput %x " + in_type + "\nconst @s " + shape +
         "\n%y f32[?] = Reshape %x, @s " + attrs + "\nreturn %y\n";
}

}  // namespace

TEST_CASE("Reshape: 0 copies the input dim and -1 takes what is left; data keeps its order") {
  const std::string text = reshape_ir("f32[2,3,4]", "i64[2] [0, -1]");
  CHECK(inferred(text) == "f32[2,12]");
  const auto y = run(text, {iota_f32({2, 3, 4})});
  CHECK(y[0].dims() == Dims{2, 12});
  CHECK(y[0].to_double_vector()[13] == 13);
}

TEST_CASE("Reshape: symbolic dims cancel when inferring -1") {
  CHECK(inferred(reshape_ir("f32[N,12,64]", "i64[2] [0, -1]")) == "f32[N,768]");
  CHECK(inferred(reshape_ir("f32[N,12,64]", "i64[2] [-1, 64]")) == "f32[?,64]");
  CHECK(inferred(reshape_ir("f32[N,3]", "i64[2] [-1, 3]")) == "f32[N,3]");
  CHECK(inferred(reshape_ir("f32[N,3]", "i64[2] [-1, 2]")) == "f32[?,2]");  // N may be even
  CHECK(inferred(reshape_ir("f32[N,12,64]", "i64[3] [0, 3, 256]")) == "f32[N,3,256]");
}

TEST_CASE("Reshape: a shape computed at run time gives unknown dims of the known rank") {
  const std::string text =
      "graph t opset=14\ninput %x f32[2,3]\ninput %s i64[3]\n%y f32[?] = Reshape %x, %s\nreturn "
      "%y\n";
  CHECK(inferred(text) == "f32[?,?,?]");
  const auto y = run(text, {iota_f32({2, 3}), Tensor::from_vector<int64_t>({3}, {3, 1, -1})});
  CHECK(y[0].dims() == Dims{3, 1, 2});
}

TEST_CASE("Reshape: allowzero=1 makes 0 a real size") {
  CHECK(inferred(reshape_ir("f32[0,3]", "i64[2] [3, 0]", "allowzero=1")) == "f32[3,0]");
}

TEST_CASE("Reshape: two -1s, a count mismatch and 0 with -1 under allowzero are errors") {
  CHECK_THROWS_WITH_AS(inferred(reshape_ir("f32[2,3]", "i64[2] [-1, -1]")),
                       doctest::Contains("node 'y' (Reshape): shape [-1,-1] has more than one -1"),
                       Error);
  CHECK_THROWS_WITH_AS(inferred(reshape_ir("f32[2,3]", "i64[2] [4, 2]")),
                       doctest::Contains("cannot reshape [2,3] (6 elements) to [4,2] (8 elements)"),
                       Error);
  CHECK_THROWS_WITH_AS(inferred(reshape_ir("f32[2,3]", "i64[2] [4, -1]")),
                       doctest::Contains("6 elements do not split into groups of 4"), Error);
  CHECK_THROWS_WITH_AS(inferred(reshape_ir("f32[2,3]", "i64[2] [0, -1]", "allowzero=1")),
                       doctest::Contains("both 0 and -1"), Error);
}

TEST_CASE("Flatten: splits the dims at axis into two products, keeping a lone symbol") {
  auto flatten = [](const std::string& type, int axis) {
    return inferred("graph t opset=13\ninput %x " + type +
                    "\n%y f32[?] = Flatten %x axis=" + std::to_string(axis) + "\nreturn %y\n");
  };
  CHECK(flatten("f32[N,3,4]", 1) == "f32[N,12]");
  CHECK(flatten("f32[2,3,4]", 0) == "f32[1,24]");
  CHECK(flatten("f32[2,3,4]", -1) == "f32[6,4]");
  CHECK(flatten("f32[2,3,4]", 3) == "f32[24,1]");
  CHECK_THROWS_WITH_AS(flatten("f32[2,3,4]", 4),
                       doctest::Contains("axis 4 is out of range for rank 3"), Error);
}

TEST_CASE("Squeeze: removes the listed size-1 axes, or all of them without axes") {
  CHECK(inferred("graph t opset=13\ninput %x f32[1,3,1,2]\nconst @a i64[1] [-2]\n"
                 "%y f32[?] = Squeeze %x, @a\nreturn %y\n") == "f32[1,3,2]");
  CHECK(inferred("graph t opset=13\ninput %x f32[1,3,1,2]\n%y f32[?] = Squeeze %x\nreturn %y\n") ==
        "f32[3,2]");
  CHECK_THROWS_WITH_AS(inferred("graph t opset=13\ninput %x f32[1,3]\nconst @a i64[1] [1]\n"
                                "%y f32[?] = Squeeze %x, @a\nreturn %y\n"),
                       doctest::Contains("cannot squeeze axis 1 of [1,3]: its size is 3, not 1"),
                       Error);
}

TEST_CASE("Unsqueeze: axes index the output; repeats are errors") {
  const std::string text =
      "graph t opset=13\ninput %x f32[2,3]\nconst @a i64[2] [-1, 0]\n%y f32[?] = Unsqueeze %x, "
      "@a\nreturn %y\n";
  CHECK(inferred(text) == "f32[1,2,3,1]");
  CHECK(run(text, {iota_f32({2, 3})})[0].dims() == Dims{1, 2, 3, 1});
  CHECK_THROWS_WITH_AS(inferred("graph t opset=13\ninput %x f32[2]\nconst @a i64[2] [0, -3]\n"
                                "%y f32[?] = Unsqueeze %x, @a\nreturn %y\n"),
                       doctest::Contains("listed twice"), Error);
}

TEST_CASE("Expand: broadcasts both ways, [3,1] to [2,1,4] gives [2,3,4]") {
  const std::string text =
      "graph t opset=13\ninput %x f32[3,1]\nconst @s i64[3] [2, 1, 4]\n%y f32[?] = Expand %x, "
      "@s\nreturn %y\n";
  CHECK(inferred(text) == "f32[2,3,4]");
  const auto y = run(text, {Tensor::from_vector<float>({3, 1}, {7, 8, 9})});
  const std::vector<double> row = {7, 7, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9};
  std::vector<double> expected = row;
  expected.insert(expected.end(), row.begin(), row.end());
  CHECK(y[0].to_double_vector() == expected);
  CHECK(inferred("graph t opset=13\ninput %x f32[N,1]\nconst @s i64[2] [1, 5]\n"
                 "%y f32[?] = Expand %x, @s\nreturn %y\n") == "f32[N,5]");
  CHECK_THROWS_WITH_AS(inferred("graph t opset=13\ninput %x f32[3]\nconst @s i64[1] [4]\n"
                                "%y f32[?] = Expand %x, @s\nreturn %y\n"),
                       doctest::Contains("do not broadcast"), Error);
}

TEST_CASE("Shape and Size: start/end pick dims, clamped to the rank") {
  auto shape = [](const std::string& attrs) {
    return run("graph t opset=15\ninput %x f32[2,3,4]\n%y i64[?] = Shape %x " + attrs +
                   "\nreturn %y\n",
               {iota_f32({2, 3, 4})})[0]
        .to_int_vector();
  };
  CHECK(shape("") == std::vector<int64_t>{2, 3, 4});
  CHECK(shape("start=1") == std::vector<int64_t>{3, 4});
  CHECK(shape("start=-10 end=-1") == std::vector<int64_t>{2, 3});
  CHECK(shape("start=2 end=1").empty());
  const auto size = run("graph t opset=13\ninput %x f32[2,3,4]\n%y i64[] = Size %x\nreturn %y\n",
                        {iota_f32({2, 3, 4})});
  CHECK(size[0].to_int_vector() == std::vector<int64_t>{24});
}

TEST_CASE("Dropout: inference is the identity with an all-true mask; training mode is refused") {
  const auto y =
      run("graph t opset=13\ninput %x f32[3]\n%y, %m f32[3], bool[3] = Dropout %x\nreturn %y, %m\n",
          {Tensor::from_vector<float>({3}, {1, -2, 3})});
  CHECK(y[0].to_double_vector() == std::vector<double>{1, -2, 3});
  CHECK(y[1].to_int_vector() == std::vector<int64_t>{1, 1, 1});
  CHECK(
      error_kind("graph t opset=13\ninput %x f32[3]\nconst @r f32[] [0.5]\nconst @t bool[] [true]\n"
                 "%y f32[3] = Dropout %x, @r, @t\nreturn %y\n",
                 {Tensor::from_vector<float>({3}, {1, 2, 3})}) == ErrorKind::Unsupported);
}

TEST_CASE("Identity: copies its input") {
  const auto y = run("graph t opset=16\ninput %x i64[2]\n%y i64[2] = Identity %x\nreturn %y\n",
                     {Tensor::from_vector<int64_t>({2}, {5, -6})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{5, -6});
}
