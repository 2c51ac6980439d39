#include <doctest/doctest.h>

#include "core/ir_text.h"

using namespace nnc;

namespace {
// A canonical text: what print_ir produces, so parse -> print must give it back byte for byte.
const char* kCanonical = R"(graph conv_bn_relu opset=17
input  %x          f32[1,8,32,32]
const  @conv1.w    f32[16,8,3,3]   blob:9c41e2d0 [-0.52, 0.49]
const  @bn1.scale  f32[2]          [1.5, 0.5]
const  @shape      i64[2]          [1, -1]
const  @r          f32[4,4]        random(seed=3)

%conv1                   f32[1,16,32,32]  = Conv     %x, @conv1.w    kernel_shape=[3,3] pads=[1,1,1,1]
%relu1                   f32[1,16,32,32]  = Relu     %conv1                                             # from conv1, bn1, relu1
%flat                    f32[1,16384]     = Reshape  %relu1, @shape
%"odd name, with comma"  f32[1,16384]     = Relu     %flat
return %"odd name, with comma"
)";
}  // namespace

TEST_CASE("IR text: printing parsed canonical text reproduces it byte for byte") {
  const Graph g = parse_ir(kCanonical);
  const std::string printed = print_ir(g);
  CHECK(print_ir(parse_ir(printed)) == printed);  // the printer's output is a fixed point
  CHECK(g.nodes.size() == 4);
  CHECK(g.nodes[1].sources == std::vector<std::string>{"conv1", "bn1", "relu1"});
  CHECK(g.value(g.find("odd name, with comma")).type.shape.dims[1].value == 16384);
}

TEST_CASE("IR text: the printer aligns columns and keeps blob summaries and generators") {
  const std::string printed = print_ir(parse_ir(kCanonical));
  CHECK(printed.find("blob:9c41e2d0 [-0.52, 0.49]") != std::string::npos);
  CHECK(printed.find("random(seed=3)") != std::string::npos);
  CHECK(printed == kCanonical);
  CHECK(printed.find("%flat                    f32[1,16384]     = Reshape  %relu1, @shape") != std::string::npos);
}

TEST_CASE("IR text: attributes keep their types (ints, floats, strings, lists)") {
  const Graph g = parse_ir(R"(graph a opset=17
input %x f32[1,3,8,8]
%y f32[1,3,16,16] = Resize %x mode="linear" coordinate_transformation_mode="half_pixel" cubic_coeff_a=-0.5 exclude_outside=0 axes=[2,3] scales_hint=[2.0, 2.0] names=["a", "b"]
return %y
)");
  const Node& n = g.nodes[0];
  CHECK(std::get<std::string>(*n.find_attr("mode")) == "linear");
  CHECK(std::get<float>(*n.find_attr("cubic_coeff_a")) == -0.5f);
  CHECK(std::get<int64_t>(*n.find_attr("exclude_outside")) == 0);
  CHECK(std::get<std::vector<int64_t>>(*n.find_attr("axes")) == std::vector<int64_t>{2, 3});
  CHECK(std::get<std::vector<float>>(*n.find_attr("scales_hint")) == std::vector<float>{2.0f, 2.0f});
  CHECK(std::get<std::vector<std::string>>(*n.find_attr("names")).size() == 2);
}

TEST_CASE("IR text: subgraph blocks print and parse back") {
  const char* text = R"(graph main opset=17
input  %c  bool[]
input  %x  f32[3]

%y  f32[3]  = If  %c  then_branch=<graph> else_branch=<graph>
  {
    graph then_body opset=17
    outer  %x  f32[3]

    %t  f32[3]  = Relu  %x
    return %t
  }
  {
    graph else_body opset=17
    outer  %x  f32[3]

    %e  f32[3]  = Neg  %x
    return %e
  }
return %y
)";
  const Graph g = parse_ir(text);
  CHECK(print_ir(g) == text);
}

TEST_CASE("IR text: errors name the line and column") {
  CHECK_THROWS_WITH_AS(parse_ir("graph g opset=17\n%y f32[2] = NoSuchOp %x\nreturn %y\n"),
                       doctest::Contains("line 2"), Error);
  CHECK_THROWS_WITH_AS(parse_ir("graph g opset=17\ninput %x f32[2]\n%y f32[2] = Relu %z\nreturn %y\n"),
                       doctest::Contains("'%z' is not defined above"), Error);
  CHECK_THROWS_WITH_AS(parse_ir("graph g opset=17\ninput %x f32[2]\n"), doctest::Contains("no 'return'"), Error);
  CHECK_THROWS_WITH_AS(parse_ir("graph g opset=17\nconst @w f32[2] [1.0]\nreturn @w\n"),
                       doctest::Contains("1 values given but f32[2] holds 2"), Error);
}
