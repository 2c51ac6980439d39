// Tests for ops/gather.cpp. Expected values are from numpy (take, take_along_axis, fancy
// indexing) on d = arange(12).reshape(3, 4).
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
Tensor arange(Dims dims) {
  Tensor t(DType::I64, dims);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int64_t>()[i] = i;
  return t;
}

std::vector<Tensor> run(const std::string& text, std::vector<Tensor> inputs) {
  Graph g = parse_ir(text);
  infer_types(g);
  return run_reference(g, inputs);
}
}  // namespace

TEST_CASE("Gather: whole rows by index, negative indices from the end") {
  const auto y =
      run("graph t opset=13\ninput %d i64[3,4]\nconst @i i64[1,2] [2, -3]\n"
          "%y i64[?] = Gather %d, @i\nreturn %y\n",
          {arange({3, 4})});
  CHECK(y[0].dims() == Dims{1, 2, 4});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{8, 9, 10, 11, 0, 1, 2, 3});
  const auto columns =
      run("graph t opset=13\ninput %d i64[3,4]\nconst @i i32[2] [3, 0]\n"
          "%y i64[?] = Gather %d, @i axis=1\nreturn %y\n",
          {arange({3, 4})});
  CHECK(columns[0].to_int_vector() == std::vector<int64_t>{3, 0, 7, 4, 11, 8});
}

TEST_CASE("Gather: an index out of range is an error at run time naming the node") {
  CHECK_THROWS_WITH_AS(
      run("graph t opset=13\ninput %d i64[3,4]\ninput %i i64[1]\n%y i64[?] = Gather %d, %i\nreturn "
          "%y\n",
          {arange({3, 4}), Tensor::from_vector<int64_t>({1}, {3})}),
      doctest::Contains("node 'y' (Gather): index 3 is out of range for axis 0 of size 3"), Error);
}

TEST_CASE("GatherElements: one element per index along the axis") {
  const auto y =
      run("graph t opset=13\ninput %d i64[3,4]\nconst @i i64[3,2] [0, 2, 1, 0, 2, 1]\n"
          "%y i64[?] = GatherElements %d, @i axis=1\nreturn %y\n",
          {arange({3, 4})});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{0, 2, 5, 4, 10, 9});
}

TEST_CASE("GatherND: coordinate tuples after batch_dims shared axes") {
  const auto y =
      run("graph t opset=13\ninput %d i64[2,2,2]\nconst @i i64[2,1] [1, 0]\n"
          "%y i64[?] = GatherND %d, @i batch_dims=1\nreturn %y\n",
          {arange({2, 2, 2})});
  CHECK(y[0].dims() == Dims{2, 2});
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{2, 3, 4, 5});
  const auto points =
      run("graph t opset=13\ninput %d i64[3,4]\nconst @i i64[2,2] [2, 3, 0, 1]\n"
          "%y i64[?] = GatherND %d, @i\nreturn %y\n",
          {arange({3, 4})});
  CHECK(points[0].to_int_vector() == std::vector<int64_t>{11, 1});
}

TEST_CASE("GatherND: tuples longer than data's rank are an error") {
  CHECK_THROWS_WITH_AS(
      run("graph t opset=13\ninput %d i64[3,4]\nconst @i i64[1,3] [0, 0, 0]\n"
          "%y i64[?] = GatherND %d, @i\nreturn %y\n",
          {arange({3, 4})}),
      doctest::Contains("node 'y' (GatherND): indices i64[1,3] hold tuples of 3 coordinates"),
      Error);
}
