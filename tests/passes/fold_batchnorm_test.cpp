#include <doctest/doctest.h>

#include "ir_test_util.h"
#include "passes/eliminate_dead_code.h"
#include "passes/fold_batchnorm.h"

using namespace nnc;
using nnc::testing::expect_ir;
using nnc::testing::expect_same_outputs;
using nnc::testing::parse_typed;

namespace {

// BN statistics: variance must be positive, so it is written as a literal.
const char* kConvBn = R"(graph t opset=17
input  %x     f32[1,3,6,6]
const  @w     f32[4,3,3,3]  random(seed=1)
const  @b     f32[4]        [0.1, -0.2, 0.3, 0.0]
const  @s     f32[4]        [1.5, 0.5, -1.0, 2.0]
const  @beta  f32[4]        [0.1, 0.2, 0.3, 0.4]
const  @mean  f32[4]        [0.5, -0.5, 0.25, 0.0]
const  @var   f32[4]        [1.0, 2.0, 0.5, 0.25]
%c  f32[1,4,6,6]  = Conv                %x, @w, @b  kernel_shape=[3,3] pads=[1,1,1,1]
%y  f32[1,4,6,6]  = BatchNormalization  %c, @s, @beta, @mean, @var
return %y
)";

}  // namespace

TEST_CASE("fold-batchnorm: a BN after a Conv folds into the Conv's weights and bias") {
  Graph g = parse_typed(kConvBn);
  const Graph before = g;
  const PassReport report = fold_batchnorm(g);
  CHECK(report.rewrites() == 1);
  CHECK(report.summary_text() == "folded 1 BatchNormalization and 0 constant Mul/Add into weights; 0 became scale+shift; 0 left");
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=17
input %x f32[1,3,6,6]
const @w.fold f32[4,3,3,3] ...
const @b.fold f32[4] ...
%y f32[1,4,6,6] = Conv %x, @w.fold, @b.fold kernel_shape=[3,3] pads=[1,1,1,1] # from c, y
return %y
)");
  expect_same_outputs(before, g);
}

TEST_CASE("fold-batchnorm: must not fold when the Conv output has another use; the BN becomes scale+shift") {
  std::string text = kConvBn;
  text.replace(text.find("return %y"), 9, "return %y, %c");
  Graph g = parse_typed(text);
  const Graph before = g;
  const PassReport report = fold_batchnorm(g);
  CHECK(g.count(OpKind::BatchNormalization) == 0);
  CHECK(g.count(OpKind::Conv) == 1);
  CHECK(g.count(OpKind::Mul) == 1);
  CHECK(g.count(OpKind::Add) == 1);
  REQUIRE(report.notes().size() == 1);
  CHECK(report.notes()[0].find("also used elsewhere") != std::string::npos);
  expect_same_outputs(before, g);
}

TEST_CASE("fold-batchnorm: a BN after a Gemm folds into B's columns and the bias") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x     f32[2,5]
const  @w     f32[5,3]  random(seed=2)
const  @s     f32[3]    [1.5, 0.5, -1.0]
const  @beta  f32[3]    [0.1, 0.2, 0.3]
const  @mean  f32[3]    [0.5, -0.5, 0.25]
const  @var   f32[3]    [1.0, 2.0, 0.5]
%m  f32[2,3]  = MatMul              %x, @w
%y  f32[2,3]  = BatchNormalization  %m, @s, @beta, @mean, @var
return %y
)");
  const Graph before = g;
  CHECK(fold_batchnorm(g).rewrites() == 1);
  CHECK(g.count(OpKind::BatchNormalization) == 0);
  CHECK(g.count(OpKind::Gemm) == 1);
  expect_same_outputs(before, g);
}

TEST_CASE("fold-batchnorm: a constant per-channel Mul then Add after a Conv fold in too") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[1,2,5,5]
const  @w  f32[3,2,1,1]  random(seed=3)
const  @k  f32[3,1,1]    [2.0, -1.0, 0.5]
const  @o  f32[1,3,1,1]  [1.0, 2.0, 3.0]
%c  f32[1,3,5,5]  = Conv  %x, @w  kernel_shape=[1,1]
%m  f32[1,3,5,5]  = Mul   @k, %c
%y  f32[1,3,5,5]  = Add   %m, @o
return %y
)");
  const Graph before = g;
  CHECK(fold_batchnorm(g).rewrites() == 2);
  CHECK(g.nodes.size() == 1);
  expect_same_outputs(before, g);
}

TEST_CASE("fold-batchnorm: must not fold a Mul whose constant varies along the spatial axes") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[1,2,3,3]
const  @w  f32[2,2,1,1]  random(seed=3)
const  @k  f32[3]        [2.0, -1.0, 0.5]
%c  f32[1,2,3,3]  = Conv  %x, @w  kernel_shape=[1,1]
%y  f32[1,2,3,3]  = Mul   %c, @k
return %y
)");
  CHECK(fold_batchnorm(g).rewrites() == 0);
  CHECK(g.nodes.size() == 2);
}
