// Tests for ops/pad.cpp. Expected values are from numpy.pad on a = arange(6).reshape(2, 3),
// with numpy's ((b0, e0), (b1, e1)) written as ONNX's [b0, b1, e0, e1].
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
Tensor pad(const std::string& pads, const std::string& attrs, const std::string& extra_inputs = "",
           const std::string& extra_consts = "") {
  Graph g = parse_ir("graph t opset=18\ninput %x i64[2,3]\nconst @pads i64[4] " + pads + "\n" +
                     extra_consts + "%y i64[?] = Pad %x, @pads" + extra_inputs + " " + attrs +
                     "\nreturn %y\n");
  infer_types(g);
  Tensor x(DType::I64, {2, 3});
  for (int64_t i = 0; i < 6; ++i) x.data<int64_t>()[i] = i;
  return run_reference(g, std::vector<Tensor>{x})[0];
}
}  // namespace

TEST_CASE("Pad: reflect, edge and wrap with pads ((1,0),(2,1))") {
  const Tensor reflect = pad("[1, 2, 0, 1]", "mode=\"reflect\"");
  CHECK(reflect.dims() == Dims{3, 6});
  CHECK(reflect.to_int_vector() ==
        std::vector<int64_t>{5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4});
  CHECK(pad("[1, 2, 0, 1]", "mode=\"edge\"").to_int_vector() ==
        std::vector<int64_t>{0, 0, 0, 1, 2, 2, 0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5});
  CHECK(pad("[1, 2, 0, 1]", "mode=\"wrap\"").to_int_vector() ==
        std::vector<int64_t>{4, 5, 3, 4, 5, 3, 1, 2, 0, 1, 2, 0, 4, 5, 3, 4, 5, 3});
}

TEST_CASE("Pad: constant mode fills with constant_value") {
  const Tensor y = pad("[0, 1, 1, 0]", "", ", @value", "const @value i64[] [9]\n");
  CHECK(y.to_int_vector() == std::vector<int64_t>{9, 0, 1, 2, 9, 3, 4, 5, 9, 9, 9, 9});
}

TEST_CASE("Pad: negative pads crop; axes pick which axes the pads are for") {
  CHECK(pad("[0, -1, 0, 0]", "").to_int_vector() == std::vector<int64_t>{1, 2, 4, 5});
  Graph g = parse_ir(
      "graph t opset=18\ninput %x f32[2,3]\nconst @pads i64[2] [1, 1]\nconst @axes i64[1] [-1]\n"
      "%y f32[?] = Pad %x, @pads, _, @axes\nreturn %y\n");
  infer_types(g);
  CHECK(to_string(g.type(g.find("y"))) == "f32[2,5]");
}

TEST_CASE("Pad: wrong pads length, unknown mode and over-cropping are errors naming the node") {
  auto infer = [](const std::string& text) {
    Graph g = parse_ir(text);
    infer_types(g);
  };
  CHECK_THROWS_WITH_AS(
      infer("graph t opset=18\ninput %x f32[2,3]\nconst @p i64[2] [1, 1]\n%y f32[?] = Pad %x, "
            "@p\nreturn %y\n"),
      doctest::Contains(
          "node 'y' (Pad): pads [1,1] has 2 entries but 2 axes are padded, which needs 4"),
      Error);
  CHECK_THROWS_WITH_AS(infer("graph t opset=18\ninput %x f32[2]\nconst @p i64[2] [1, 1]\n"
                             "%y f32[?] = Pad %x, @p mode=\"mirror\"\nreturn %y\n"),
                       doctest::Contains("mode 'mirror' is not one of"), Error);
  CHECK_THROWS_WITH_AS(infer("graph t opset=18\ninput %x f32[2]\nconst @p i64[2] [-2, -1]\n%y "
                             "f32[?] = Pad %x, @p\nreturn %y\n"),
                       doctest::Contains("would make axis 0 (size 2) negative"), Error);
}
