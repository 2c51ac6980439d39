// Tests for ops/cast.cpp. Expected values are hand-computed.
#include <doctest/doctest.h>

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

std::string cast_to(int onnx_type, const std::string& out_type) {
  return "graph t opset=17\ninput %x f32[3]\n%y " + out_type +
         " = Cast %x to=" + std::to_string(onnx_type) + "\nreturn %y\n";
}
}  // namespace

TEST_CASE("Cast: `to` is ONNX's data type enum; float to int truncates toward zero") {
  const Tensor x = Tensor::from_vector<float>({3}, {1.9f, -1.9f, 0.0f});
  const auto i = run(cast_to(7, "i64[3]"), {x});  // 7 = INT64
  CHECK(i[0].dtype() == DType::I64);
  CHECK(i[0].to_int_vector() == std::vector<int64_t>{1, -1, 0});
  const auto b = run(cast_to(9, "bool[3]"), {x});  // 9 = BOOL
  CHECK(b[0].to_int_vector() == std::vector<int64_t>{1, 1, 0});
  const auto h = run(cast_to(10, "f16[3]"), {x});  // 10 = FLOAT16
  CHECK(h[0].dtype() == DType::F16);
}

TEST_CASE("Cast: STRING is unsupported and an unknown type number is bad input") {
  const Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3});
  try {
    run(cast_to(8, "f32[3]"), {x});
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Unsupported);
    CHECK(std::string(e.what()).find("node 'y' (Cast)") != std::string::npos);
  }
  CHECK_THROWS_WITH_AS(run(cast_to(99, "f32[3]"), {x}),
                       doctest::Contains("node 'y' (Cast): attribute 'to' is 99"), Error);
}

TEST_CASE("CastLike: takes the type of its second input") {
  const auto y =
      run(R"(graph t opset=17
input %x f64[2]
input %like i32[1]
%y i32[2] = CastLike %x, %like
return %y
)",
          {Tensor::from_vector<double>({2}, {2.5, -7}), Tensor::from_vector<int32_t>({1}, {0})});
  CHECK(y[0].dtype() == DType::I32);
  CHECK(y[0].to_int_vector() == std::vector<int64_t>{2, -7});
}
