// Tests for ops/softmax.cpp. Expected values are from numpy (noted) or hand-computed.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/op_def.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

std::vector<Tensor> run(const std::string& op, const std::string& type, const std::string& attrs,
                        const Tensor& x) {
  Graph g = parse_ir("graph t opset=13\ninput %x " + type + "\n%y " + type + " = " + op + " %x " +
                     attrs + "\nreturn %y\n");
  infer_types(g);
  return run_reference(g, std::vector<Tensor>{x});
}

void check_close(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> got = t.to_double_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

Tensor halves() {  // [2,2,2] of 0, 0.5, ..., 3.5
  std::vector<float> v(8);
  for (size_t i = 0; i < v.size(); ++i) v[i] = 0.5f * float(i);
  return Tensor::from_vector<float>({2, 2, 2}, v);
}

}  // namespace

TEST_CASE("Softmax: normalises along the last axis by default") {
  // numpy: exp(x) / exp(x).sum(-1, keepdims=True)
  const auto y =
      run("Softmax", "f32[2,3]", "", Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 7}));
  check_close(y[0], {0.090030573, 0.244728471, 0.665240956, 0.042010066, 0.114195199, 0.843794734});
}

TEST_CASE(
    "Softmax: axis=1 normalises that axis alone; coerce_2d=1 flattens dims[1:] as opset < 13 did") {
  // numpy: softmax over axis 1 of x, and over axis 1 of x.reshape(2, 4)
  check_close(run("Softmax", "f32[2,2,2]", "axis=1", halves())[0],
              {0.268941421, 0.268941421, 0.731058579, 0.731058579, 0.268941421, 0.268941421,
               0.731058579, 0.731058579});
  check_close(run("Softmax", "f32[2,2,2]", "axis=1 coerce_2d=1", halves())[0],
              {0.101536324, 0.167405097, 0.276004345, 0.455054234, 0.101536324, 0.167405097,
               0.276004345, 0.455054234});
}

TEST_CASE("LogSoftmax: stays finite for large inputs") {
  // numpy: z - z.max() - log(exp(z - z.max()).sum())
  const auto y =
      run("LogSoftmax", "f32[3]", "", Tensor::from_vector<float>({3}, {1000, 1001, 1002}));
  check_close(y[0], {-2.407605964, -1.407605964, -0.407605964});
}

TEST_CASE("Hardmax: one-hot of the first maximum") {
  const auto y =
      run("Hardmax", "f32[2,3]", "", Tensor::from_vector<float>({2, 3}, {1, 3, 3, -1, -2, -3}));
  CHECK(y[0].to_double_vector() == std::vector<double>{0, 1, 0, 1, 0, 0});
}

TEST_CASE("Softmax: the upgrade gives opset < 13 nodes axis 1 and the 2-D coercion") {
  Node old;
  old.op = OpKind::Softmax;
  UpgradeContext context{11, nullptr};
  op_def(OpKind::Softmax).upgrade(old, context);
  CHECK(attr_int(old, "axis") == 1);
  CHECK(attr_int(old, "coerce_2d") == 1);

  Node explicit_axis;
  explicit_axis.op = OpKind::LogSoftmax;
  explicit_axis.set_attr("axis", int64_t{-1});
  op_def(OpKind::LogSoftmax).upgrade(explicit_axis, context);
  CHECK(attr_int(explicit_axis, "axis") == -1);

  Node current;
  current.op = OpKind::Softmax;
  UpgradeContext opset13{13, nullptr};
  op_def(OpKind::Softmax).upgrade(current, opset13);
  CHECK(current.attrs.empty());
}

TEST_CASE("Softmax: an axis out of range and integer input are errors naming the node") {
  CHECK_THROWS_WITH_AS(run("Softmax", "f32[2,3]", "axis=2", Tensor(DType::F32, {2, 3})),
                       doctest::Contains("node 'y' (Softmax): axis 2 is out of range"), Error);
  CHECK_THROWS_WITH_AS(run("Softmax", "i32[2]", "", Tensor(DType::I32, {2})),
                       doctest::Contains("(Softmax): input 0 has type i32"), Error);
}
