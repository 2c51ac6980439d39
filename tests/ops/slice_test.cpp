// Tests for ops/slice.cpp. Expected values are from numpy slicing of x = arange(20).reshape(4, 5).
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
// Slices arange(20).reshape(4,5); the lists are IR literals ("" leaves the input out).
Tensor slice(const std::string& starts, const std::string& ends, const std::string& axes,
             const std::string& steps) {
  std::string text = "graph t opset=13\ninput %x i64[4,5]\n";
  text += "const @starts i64[" + std::to_string(std::count(starts.begin(), starts.end(), ',') + 1) +
          "] " + starts + "\n";
  text += "const @ends i64[" + std::to_string(std::count(ends.begin(), ends.end(), ',') + 1) +
          "] " + ends + "\n";
  std::string operands = "%x, @starts, @ends";
  if (!axes.empty()) {
    text += "const @axes i64[" + std::to_string(std::count(axes.begin(), axes.end(), ',') + 1) +
            "] " + axes + "\n";
    operands += ", @axes";
  }
  if (!steps.empty()) {
    text += "const @steps i64[" + std::to_string(std::count(steps.begin(), steps.end(), ',') + 1) +
            "] " + steps + "\n";
    operands += (axes.empty() ? ", _, @steps" : ", @steps");
  }
  Graph g = parse_ir(text + "%y i64[?] = Slice " + operands + "\nreturn %y\n");
  infer_types(g);
  Tensor x(DType::I64, {4, 5});
  for (int64_t i = 0; i < 20; ++i) x.data<int64_t>()[i] = i;
  return run_reference(g, std::vector<Tensor>{x})[0];
}

std::string inferred(const std::string& text) {
  Graph g = parse_ir(text);
  infer_types(g);
  return to_string(g.type(g.find("y")));
}
}  // namespace

TEST_CASE("Slice: x[1:3, 0:5:2]") {
  const Tensor y = slice("[1, 0]", "[3, 5]", "", "[1, 2]");
  CHECK(y.dims() == Dims{2, 3});
  CHECK(y.to_int_vector() == std::vector<int64_t>{5, 7, 9, 10, 12, 14});
}

TEST_CASE("Slice: negative steps, with INT64_MIN as the end, run backwards: x[::-1, 4:0:-2]") {
  const Tensor y = slice("[-1, 4]", "[-9223372036854775808, 0]", "[0, 1]", "[-1, -2]");
  CHECK(y.dims() == Dims{4, 2});
  CHECK(y.to_int_vector() == std::vector<int64_t>{19, 17, 14, 12, 9, 7, 4, 2});
}

TEST_CASE("Slice: out-of-range starts and ends clamp: x[:, 10:] is empty, x[-100:2, -2:]") {
  CHECK(slice("[10]", "[20]", "[1]", "").dims() == Dims{4, 0});
  CHECK(slice("[-100, -2]", "[2, 9223372036854775807]", "[-2, -1]", "").to_int_vector() ==
        std::vector<int64_t>{3, 4, 8, 9});
}

TEST_CASE("Slice: a symbolic dim survives a whole-axis slice; run-time starts keep the rank") {
  CHECK(inferred("graph t opset=13\ninput %x f32[N,5]\nconst @s i64[2] [0, 1]\nconst @e i64[2] "
                 "[9223372036854775807, 3]\n"
                 "%y f32[?] = Slice %x, @s, @e\nreturn %y\n") == "f32[N,2]");
  CHECK(inferred("graph t opset=13\ninput %x f32[N,5]\ninput %s i64[1]\nconst @e i64[1] [3]\n"
                 "%y f32[?] = Slice %x, %s, @e\nreturn %y\n") == "f32[?,?]");
}

TEST_CASE("Slice: a zero step and a repeated axis are errors naming the node") {
  CHECK_THROWS_WITH_AS(slice("[0]", "[2]", "[0]", "[0]"),
                       doctest::Contains("node 'y' (Slice): steps [0] has a 0 step"), Error);
  CHECK_THROWS_WITH_AS(slice("[0, 0]", "[2, 2]", "[1, -1]", ""),
                       doctest::Contains("axis 1 is sliced twice"), Error);
}
