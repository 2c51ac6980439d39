// Tests for ops/transpose.cpp. Expected values are hand-computed or follow from writing each
// element as a number that spells its coordinates (x[i][j] = 100 i + j).
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

Graph transpose_graph(const std::string& in_type, const std::string& attrs) {
  Graph g = parse_ir("graph t opset=13\ninput %x " + in_type + "\n%y f32[?] = Transpose %x " +
                     attrs + "\nreturn %y\n");
  infer_types(g);
  return g;
}

Tensor transpose(const Tensor& x, const std::string& attrs) {
  const Graph g = transpose_graph(to_string(x.type()), attrs);
  return run_reference(g, std::vector<Tensor>{x})[0];
}

// Element value = its coordinates as decimal digits, so a transposed element says where it was.
Tensor digits(Dims dims) {
  Tensor t(DType::F32, dims);
  const Dims strides = strides_of(dims);
  for (int64_t i = 0; i < t.numel(); ++i) {
    int64_t value = 0;
    for (size_t d = 0; d < dims.size(); ++d) value = value * 100 + i / strides[d] % dims[d];
    t.data<float>()[i] = float(value);
  }
  return t;
}

}  // namespace

TEST_CASE("Transpose: no perm reverses the dims") {
  const Tensor y = transpose(Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}), "");
  CHECK(y.dims() == Dims{3, 2});
  CHECK(y.to_double_vector() == std::vector<double>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("Transpose: a 40x70 matrix crosses several 32x32 tiles") {
  const Tensor y = transpose(digits({40, 70}), "perm=[1,0]");
  REQUIRE(y.dims() == Dims{70, 40});
  bool all_right = true;
  for (int64_t j = 0; j < 70; ++j)
    for (int64_t i = 0; i < 40; ++i) all_right &= y.data<float>()[j * 40 + i] == float(i * 100 + j);
  CHECK(all_right);
}

TEST_CASE("Transpose: attention layouts [0,2,1,3] and [0,2,3,1] on 4-D tensors") {
  const Tensor x = digits({2, 3, 4, 5});
  for (const std::vector<int64_t>& perm :
       {std::vector<int64_t>{0, 2, 1, 3}, std::vector<int64_t>{0, 2, 3, 1},
        std::vector<int64_t>{3, 1, 2, 0}}) {
    const Tensor y = transpose(x, fmt::format("perm=[{}]", fmt::join(perm, ",")));
    const Dims strides = strides_of(y.dims());
    bool all_right = true;
    for (int64_t o = 0; o < y.numel(); ++o) {
      int64_t input_coord[4];
      for (int d = 0; d < 4; ++d)
        input_coord[perm[size_t(d)]] = o / strides[size_t(d)] % y.dims()[size_t(d)];
      const int64_t value =
          ((input_coord[0] * 100 + input_coord[1]) * 100 + input_coord[2]) * 100 + input_coord[3];
      all_right &= y.data<float>()[o] == float(value);
    }
    CHECK_MESSAGE(all_right, "perm ", fmt::format("{}", fmt::join(perm, ",")));
  }
}

TEST_CASE("Transpose: any element size, bool included") {
  const Tensor x = Tensor::from_vector<bool>({2, 2}, {true, false, true, true});
  const Graph g =
      parse_ir("graph t opset=13\ninput %x bool[2,2]\n%y bool[2,2] = Transpose %x\nreturn %y\n");
  CHECK(run_reference(g, std::vector<Tensor>{x})[0].to_int_vector() ==
        std::vector<int64_t>{1, 1, 0, 1});
}

TEST_CASE("Transpose: symbolic dims move with their axis") {
  const Graph g = transpose_graph("f32[N,3,S]", "perm=[2,0,1]");
  CHECK(to_string(g.type(g.find("y"))) == "f32[S,N,3]");
}

TEST_CASE("Transpose: perm must be a permutation of the input's axes") {
  CHECK_THROWS_WITH_AS(
      transpose_graph("f32[2,3]", "perm=[0,0]"),
      doctest::Contains("node 'y' (Transpose): perm [0,0] is not a permutation of 0..1"), Error);
  CHECK_THROWS_WITH_AS(transpose_graph("f32[2,3]", "perm=[0,1,2]"),
                       doctest::Contains("perm [0,1,2] has 3 entries but the input has rank 2"),
                       Error);
}
