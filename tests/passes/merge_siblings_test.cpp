#include <doctest/doctest.h>

#include "ir_test_util.h"
#include "passes/eliminate_dead_code.h"
#include "passes/merge_siblings.h"

using namespace nnc;
using nnc::testing::expect_ir;
using nnc::testing::expect_same_outputs;
using nnc::testing::parse_typed;

TEST_CASE("merge-siblings: Q/K/V projections with bias become one MatMul and a Split") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x   f32[2,4,8]
const  @wq  f32[8,8]  random(seed=1)
const  @wk  f32[8,8]  random(seed=2)
const  @wv  f32[8,6]  random(seed=3)
const  @bq  f32[8]    random(seed=4)
const  @bk  f32[8]    random(seed=5)
const  @bv  f32[6]    random(seed=6)
%q  f32[2,4,8]  = MatMul  %x, @wq, @bq
%k  f32[2,4,8]  = MatMul  %x, @wk, @bk
%v  f32[2,4,6]  = MatMul  %x, @wv, @bv
return %q, %k, %v
)");
  const Graph before = g;
  CHECK(merge_siblings(g).rewrites() == 1);
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=13
input %x f32[2,4,8]
const @q.merged.weight f32[8,22] ...
const @q.merged.bias f32[22] ...
const @q.merged.sizes i64[3] [8, 8, 6]
%q.merged f32[2,4,22] = MatMul %x, @q.merged.weight, @q.merged.bias # from q, k, v
%q, %k, %v f32[2,4,8], f32[2,4,8], f32[2,4,6] = Split %q.merged, @q.merged.sizes axis=2 # from merge-siblings
return %q, %k, %v
)");
  expect_same_outputs(before, g);
}

TEST_CASE("merge-siblings: sibling Convs merge on the channel axis; different strides do not merge") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x   f32[1,3,8,8]
const  @w1  f32[4,3,3,3]  random(seed=1)
const  @w2  f32[2,3,3,3]  random(seed=2)
const  @w3  f32[2,3,3,3]  random(seed=3)
%a  f32[1,4,8,8]  = Conv  %x, @w1  pads=[1,1,1,1] act="Relu"
%b  f32[1,2,8,8]  = Conv  %x, @w2  pads=[1,1,1,1] act="Relu"
%c  f32[1,2,4,4]  = Conv  %x, @w3  pads=[1,1,1,1] strides=[2,2] act="Relu"
return %a, %b, %c
)");
  const Graph before = g;
  const PassReport report = merge_siblings(g);
  CHECK(report.rewrites() == 1);
  CHECK(g.count(OpKind::Conv) == 2);  // a+b merged, c (stride 2) alone
  CHECK(g.count(OpKind::Split) == 1);
  bool refusal = false;
  for (const std::string& note : report.notes()) refusal = refusal || note.find("differ in attributes") != std::string::npos;
  CHECK(refusal);
  expect_same_outputs(before, g);
}

TEST_CASE("merge-siblings: must not fire for a single MatMul or siblings with computed weights") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x  f32[2,8]
input  %w  f32[8,8]
const  @c  f32[8,8]  random(seed=1)
%a  f32[2,8]  = MatMul  %x, %w
%b  f32[2,8]  = MatMul  %x, @c
return %a, %b
)");
  CHECK(merge_siblings(g).rewrites() == 0);
  CHECK(g.count(OpKind::MatMul) == 2);
}
