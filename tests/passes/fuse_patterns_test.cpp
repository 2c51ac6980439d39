#include <doctest/doctest.h>

#include "ir_test_util.h"
#include "passes/eliminate_common_subexpressions.h"
#include "passes/eliminate_dead_code.h"
#include "passes/fuse_gelu.h"
#include "passes/fuse_group_norm.h"
#include "passes/fuse_layer_norm.h"

using namespace nnc;
using nnc::testing::expect_ir;
using nnc::testing::expect_same_outputs;
using nnc::testing::parse_typed;

// As PyTorch 1.13 exports nn.LayerNorm(8) at opset 13.
const char* kLayerNorm = R"(graph t opset=13
input  %x      f32[2,3,8]
const  @axes   i64[1]  [-1]
const  @two    f32[]   [2.0]
const  @eps    f32[]   [1e-05]
const  @gamma  f32[8]  random(seed=4)
const  @beta   f32[8]  random(seed=5)
%mean  f32[2,3,1]  = ReduceMean  %x, @axes
%d     f32[2,3,8]  = Sub         %x, %mean
%p     f32[2,3,8]  = Pow         %d, @two
%var   f32[2,3,1]  = ReduceMean  %p, @axes
%ve    f32[2,3,1]  = Add         %var, @eps
%s     f32[2,3,1]  = Sqrt        %ve
%n     f32[2,3,8]  = Div         %d, %s
%m     f32[2,3,8]  = Mul         %n, @gamma
%y     f32[2,3,8]  = Add         %m, @beta
return %y
)";

TEST_CASE("fuse-layer-norm: the nine-node opset-13 LayerNorm becomes one LayerNormalization") {
  Graph g = parse_typed(kLayerNorm);
  const Graph before = g;
  CHECK(fuse_layer_norm(g).rewrites() == 1);
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=13
input %x f32[2,3,8]
const @y.scale f32[8] ...
const @y.bias f32[8] ...
%y f32[2,3,8] = LayerNormalization %x, @y.scale, @y.bias axis=-1 epsilon=1e-05 # from mean, d, p, var, ve, s, n, m, y
return %y
)");
  expect_same_outputs(before, g);
}

TEST_CASE("fuse-layer-norm: must not fire when the centred value is also a graph output") {
  std::string text = kLayerNorm;
  text.replace(text.find("return %y"), 9, "return %y, %d");
  Graph g = parse_typed(text);
  const PassReport report = fuse_layer_norm(g);
  CHECK(report.rewrites() == 0);
  CHECK(g.count(OpKind::LayerNormalization) == 0);
  REQUIRE(report.notes().size() == 1);
  CHECK(report.notes()[0].find("used elsewhere") != std::string::npos);
}

TEST_CASE("fuse-gelu: the erf form as PyTorch exports it becomes Gelu") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x     f32[2,8]
const  @sqrt2 f32[]  [1.4142135381698608]
const  @one   f32[]  [1.0]
const  @half  f32[]  [0.5]
%d  f32[2,8]  = Div  %x, @sqrt2
%e  f32[2,8]  = Erf  %d
%a  f32[2,8]  = Add  %e, @one
%m  f32[2,8]  = Mul  %x, %a
%y  f32[2,8]  = Mul  %m, @half
return %y
)");
  const Graph before = g;
  CHECK(fuse_gelu(g).rewrites() == 1);
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=13
input %x f32[2,8]
%y f32[2,8] = Gelu %x # from d, e, a, m, y
return %y
)");
  expect_same_outputs(before, g);
}

TEST_CASE("fuse-gelu: the tanh form (x*x*x, constants on the left) becomes Gelu approximate=tanh") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x   f32[2,8]
const  @c3  f32[]  [0.044714998453855515]
const  @k   f32[]  [0.7978845834732056]
const  @one f32[]  [1.0]
const  @h   f32[]  [0.5]
%x2  f32[2,8]  = Mul   %x, %x
%x3  f32[2,8]  = Mul   %x, %x2
%cx  f32[2,8]  = Mul   @c3, %x3
%u   f32[2,8]  = Add   %x, %cx
%t   f32[2,8]  = Mul   @k, %u
%th  f32[2,8]  = Tanh  %t
%a   f32[2,8]  = Add   @one, %th
%m   f32[2,8]  = Mul   %x, %a
%y   f32[2,8]  = Mul   @h, %m
return %y
)");
  const Graph before = g;
  CHECK(fuse_gelu(g).rewrites() == 1);
  eliminate_dead_code(g);
  CHECK(g.nodes.size() == 1);
  CHECK(g.nodes[0].op == OpKind::Gelu);
  expect_same_outputs(before, g, 1e-6);
}

TEST_CASE("fuse-gelu: must not fire when the 0.5 factor is something else") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x     f32[2,8]
const  @sqrt2 f32[]  [1.4142135381698608]
const  @one   f32[]  [1.0]
const  @q     f32[]  [0.25]
%d  f32[2,8]  = Div  %x, @sqrt2
%e  f32[2,8]  = Erf  %d
%a  f32[2,8]  = Add  %e, @one
%m  f32[2,8]  = Mul  %x, %a
%y  f32[2,8]  = Mul  %m, @q
return %y
)");
  CHECK(fuse_gelu(g).rewrites() == 0);
  CHECK(g.nodes.size() == 5);
}

TEST_CASE("eliminate-common-subexpressions: a repeated Shape and equal constants are computed once") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x   f32[2,3]
const  @a   f32[3]  [1.0, 2.0, 3.0]
const  @b   f32[3]  [1.0, 2.0, 3.0]
%p  f32[2,3]  = Add  %x, @a
%q  f32[2,3]  = Add  %x, @b
%y  f32[2,3]  = Mul  %p, %q
return %y
)");
  const Graph before = g;
  const PassReport report = eliminate_common_subexpressions(g);
  CHECK(report.rewrites() == 1);
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=17
input %x f32[2,3]
const @a f32[3] [1.0, 2.0, 3.0]
%p f32[2,3] = Add %x, @a
%y f32[2,3] = Mul %p, %p
return %y
)");
  expect_same_outputs(before, g);
}

TEST_CASE("eliminate-common-subexpressions: must not merge nodes whose attributes differ") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x   f32[2,3]
%p  f32[2,3]  = LeakyRelu  %x  alpha=0.1
%q  f32[2,3]  = LeakyRelu  %x  alpha=0.2
%y  f32[2,3]  = Add  %p, %q
return %y
)");
  CHECK(eliminate_common_subexpressions(g).rewrites() == 0);
  CHECK(g.nodes.size() == 3);
}

// As PyTorch 1.13 exports nn.GroupNorm(2, 4) at opset 13 (after shape folding), on [1,4,3,3].
const char* kGroupNorm = R"(graph t opset=13
input  %x       f32[1,4,3,3]
const  @gshape  i64[3]       [0, 2, -1]
const  @ones    f32[2]       [1.0, 1.0]
const  @zeros   f32[2]       [0.0, 0.0]
const  @xshape  i64[4]       [1, 4, 3, 3]
const  @gamma   f32[4,1,1]   random(seed=4)
const  @beta    f32[4,1,1]   random(seed=5)
%r  f32[1,2,18]   = Reshape                %x, @gshape
%i  f32[1,2,18]   = InstanceNormalization  %r, @ones, @zeros  epsilon=1e-05
%b  f32[1,4,3,3]  = Reshape                %i, @xshape
%m  f32[1,4,3,3]  = Mul                    %b, @gamma
%y  f32[1,4,3,3]  = Add                    %m, @beta
return %y
)";

TEST_CASE("fuse-group-norm: Reshape/InstanceNormalization/Reshape/Mul/Add becomes one GroupNormalization") {
  Graph g = parse_typed(kGroupNorm);
  const Graph before = g;
  CHECK(fuse_group_norm(g).rewrites() == 1);
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=13
input %x f32[1,4,3,3]
const @y.scale f32[4] ...
const @y.bias f32[4] ...
%y f32[1,4,3,3] = GroupNormalization %x, @y.scale, @y.bias epsilon=1e-05 num_groups=2 # from r, i, b, m, y
return %y
)");
  expect_same_outputs(before, g);
}

TEST_CASE("fuse-group-norm: without the affine Mul/Add, and with a non-trivial per-group scale, still exact") {
  std::string text = kGroupNorm;
  text.replace(text.find("[1.0, 1.0]"), 10, "[0.5, 2.0]");
  text.replace(text.find("%m  f32"), std::string::npos, "return %b\n");
  Graph g = parse_typed(text);
  const Graph before = g;
  CHECK(fuse_group_norm(g).rewrites() == 1);
  CHECK(g.count(OpKind::GroupNormalization) == 1);
  CHECK(g.count(OpKind::InstanceNormalization) == 0);
  expect_same_outputs(before, g);
}

TEST_CASE("fuse-group-norm: must not fire when the normalised groups are read elsewhere") {
  std::string text = kGroupNorm;
  text.replace(text.find("return %y"), 9, "return %y, %i");
  Graph g = parse_typed(text);
  const PassReport report = fuse_group_norm(g);
  CHECK(report.rewrites() == 0);
  REQUIRE(report.notes().size() == 1);
  CHECK(report.notes()[0].find("also read elsewhere") != std::string::npos);
}
