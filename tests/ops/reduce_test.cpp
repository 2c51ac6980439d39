// Tests for ops/reduce.cpp. Expected values are hand-computed or from numpy (noted).
#include <doctest/doctest.h>

#include <cmath>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

std::vector<Tensor> run(const std::string& text, std::vector<Tensor> inputs) {
  Graph g = parse_ir(text);
  infer_types(g);
  return run_reference(g, inputs);
}

// `%y = OP %x, @axes ATTRS` on x = [[1,2,3],[4,5,6]]; `axes` is IR literal text or "" for none.
std::vector<Tensor> reduce(const std::string& op, const std::string& axes,
                           const std::string& out_type, const std::string& attrs = "") {
  std::string text = "graph t opset=18\ninput %x f32[2,3]\n";
  if (!axes.empty()) text += "const @axes " + axes + "\n";
  text += "%y " + out_type + " = " + op + " %x" + (axes.empty() ? "" : ", @axes") + " " + attrs +
          "\nreturn %y\n";
  return run(text, {Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6})});
}

void check_close(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> got = t.to_double_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

}  // namespace

TEST_CASE("ReduceSum: axes come from input 1; keepdims=0 drops them") {
  const auto y = reduce("ReduceSum", "i64[1] [1]", "f32[2]", "keepdims=0");
  CHECK(y[0].dims() == Dims{2});
  check_close(y[0], {6, 15});
  const auto kept = reduce("ReduceSum", "i64[1] [-2]", "f32[1,3]");
  CHECK(kept[0].dims() == Dims{1, 3});
  check_close(kept[0], {5, 7, 9});
}

TEST_CASE("ReduceSum: no axes reduces everything, unless noop_with_empty_axes is set") {
  const auto all = reduce("ReduceSum", "", "f32[1,1]");
  CHECK(all[0].dims() == Dims{1, 1});
  check_close(all[0], {21});
  const auto noop = reduce("ReduceSum", "", "f32[2,3]", "noop_with_empty_axes=1");
  check_close(noop[0], {1, 2, 3, 4, 5, 6});
  // Reducing over no axes squares each element (as ONNX's reference ReduceSumSquare does).
  check_close(reduce("ReduceSumSquare", "", "f32[2,3]", "noop_with_empty_axes=1")[0],
              {1, 4, 9, 16, 25, 36});
}

TEST_CASE("ReduceMean, ReduceProd, ReduceMax, ReduceMin, ReduceL1 over one axis") {
  check_close(reduce("ReduceMean", "i64[1] [1]", "f32[2,1]")[0], {2, 5});
  check_close(reduce("ReduceProd", "i64[1] [0]", "f32[1,3]")[0], {4, 10, 18});
  check_close(reduce("ReduceMax", "i64[1] [1]", "f32[2,1]")[0], {3, 6});
  check_close(reduce("ReduceMin", "i64[1] [0]", "f32[1,3]")[0], {1, 2, 3});
  check_close(reduce("ReduceL1", "i64[2] [0, 1]", "f32[1,1]")[0], {21});
}

TEST_CASE("ReduceL2, ReduceLogSumExp: match numpy") {
  // numpy: sqrt((x**2).sum(0))
  check_close(reduce("ReduceL2", "i64[1] [0]", "f32[1,3]")[0],
              {4.12310563, 5.38516481, 6.70820393});
  // numpy: log(exp(x).sum(1))
  check_close(reduce("ReduceLogSumExp", "i64[1] [1]", "f32[2,1]")[0], {3.40760596, 6.40760596});
}

TEST_CASE("ReduceLogSumExp: large inputs do not overflow") {
  const auto y = run(R"(graph t opset=18
input %x f32[2]
%y f32[1] = ReduceLogSumExp %x
return %y
)",
                     {Tensor::from_vector<float>({2}, {1000, 1000})});
  check_close(y[0], {1000 + std::log(2.0)});
}

TEST_CASE("ReduceMax: an empty axis gives -inf; ReduceSum of it gives 0") {
  const char* text = R"(graph t opset=18
input %x f32[2,0]
const @axes i64[1] [1]
%y f32[2] = {} %x, @axes keepdims=0
return %y
)";
  const Tensor x(DType::F32, {2, 0});
  const auto max = run(fmt::format(fmt::runtime(text), "ReduceMax"), {x});
  CHECK(max[0].to_double_vector() == std::vector<double>{-INFINITY, -INFINITY});
  const auto sum = run(fmt::format(fmt::runtime(text), "ReduceSum"), {x});
  CHECK(sum[0].to_double_vector() == std::vector<double>{0, 0});
}

TEST_CASE("ReduceSum: int64 sums are exact beyond 2^53") {
  const int64_t big = int64_t(1) << 60;
  const auto y = run(R"(graph t opset=18
input %x i64[3]
%y i64[1] = ReduceSum %x
return %y
)",
                     {Tensor::from_vector<int64_t>({3}, {big, 1, 2})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{big + 3});
}

TEST_CASE("ReduceSum: repeated or out-of-range axes are errors naming the node") {
  CHECK_THROWS_WITH_AS(reduce("ReduceSum", "i64[2] [1, -1]", "f32[2,1]"),
                       doctest::Contains("node 'y' (ReduceSum): axis -1 is listed twice"), Error);
  CHECK_THROWS_WITH_AS(reduce("ReduceSum", "i64[1] [2]", "f32[2,1]"),
                       doctest::Contains("(ReduceSum): axis 2 is out of range for rank 2"), Error);
}

TEST_CASE("ArgMax: first maximum by default, last with select_last_index; keepdims controls rank") {
  const char* text = R"(graph t opset=13
input %x f32[2,3]
%y i64[{}] = ArgMax %x axis=1 {}
return %y
)";
  const Tensor x = Tensor::from_vector<float>({2, 3}, {1, 3, 3, 7, 2, 7});
  const auto first = run(fmt::format(fmt::runtime(text), "2,1", ""), {x});
  CHECK(first[0].dims() == Dims{2, 1});
  CHECK(first[0].to_int_vector() == std::vector<int64_t>{1, 0});
  const auto last =
      run(fmt::format(fmt::runtime(text), "2", "keepdims=0 select_last_index=1"), {x});
  CHECK(last[0].dims() == Dims{2});
  CHECK(last[0].to_int_vector() == std::vector<int64_t>{2, 2});
}

TEST_CASE("ArgMin: along axis 0") {
  const auto y = run(R"(graph t opset=13
input %x i32[2,3]
%y i64[1,3] = ArgMin %x
return %y
)",
                     {Tensor::from_vector<int32_t>({2, 3}, {5, 1, 9, 2, 8, 9})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{1, 0, 0});
}
