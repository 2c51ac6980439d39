#include <doctest/doctest.h>

#include <algorithm>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"
#include "passes/fold_constants.h"

using namespace nnc;

namespace {
Graph parse_typed(const char* text) {
  Graph g = parse_ir(text);
  infer_types(g);
  return g;
}
}  // namespace

TEST_CASE("fold-constants: a shape subgraph (Shape -> Gather -> Concat -> Reshape target) becomes a constant") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x     f32[2,3,4]
const  @zero  i64[] [0]
const  @tail  i64[1] [-1]

%s     i64[3]    = Shape    %x
%n     i64[]     = Gather   %s, @zero
%n1    i64[1]    = Unsqueeze %n, @zero
%tgt   i64[2]    = Concat   %n1, @tail  axis=0
%y     f32[2,12] = Reshape  %x, %tgt
return %y
)");
  const Tensor x = Tensor::from_vector<float>({2, 3, 4}, std::vector<float>(24, 1.5f));
  const Tensor before = run_reference(g, std::vector<Tensor>{x})[0];

  const PassReport report = fold_constants(g);
  CHECK(report.rewrites() == 4);
  REQUIRE(g.nodes.size() == 1);
  CHECK(g.nodes[0].op == OpKind::Reshape);
  const Tensor* target = g.const_data(g.find("tgt"));
  REQUIRE(target != nullptr);
  CHECK(target->to_int_vector() == std::vector<int64_t>{2, -1});

  const Tensor after = run_reference(g, std::vector<Tensor>{x})[0];
  CHECK(after.dims() == before.dims());
  CHECK(after.dims() == Dims{2, 12});
}

TEST_CASE("fold-constants: must not fire on nodes that read a graph input's data") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[4]

%y  f32[4]  = Relu  %x
return %y
)");
  const std::string text = print_ir(g);
  CHECK(fold_constants(g).rewrites() == 0);
  CHECK(print_ir(g) == text);
}

TEST_CASE("fold-constants: running it twice makes no further rewrites") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[2]
const  @a  f32[2] [1.0, 2.0]
const  @b  f32[2] [3.0, 4.0]

%c  f32[2]  = Add  @a, @b
%y  f32[2]  = Mul  %x, %c
return %y
)");
  CHECK(fold_constants(g).rewrites() == 1);
  CHECK(g.const_data(g.find("c"))->data<float>()[1] == 6.0f);
  CHECK(fold_constants(g).rewrites() == 0);
}

TEST_CASE("fold-constants: must not spend minutes at import on a costly constant node") {
  // A tiny file can make these from ConstantOfShape; folding the MatMul would cost 2*1024^3 FLOPs.
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[1024]
const  @a  f32[1024,1024] fill(0.5)
const  @b  f32[1024,1024] fill(0.25)
const  @n  f32[2,2] fill(1)

%m   f32[1024,1024] = MatMul  @a, @b
%k   f32[2,2]       = MatMul  @n, @n
%y   f32[1024]      = MatMul  %m, %x
return %y, %k
)");
  const PassReport report = fold_constants(g);
  CHECK(report.rewrites() == 1);  // the cheap 2x2 MatMul folds
  REQUIRE(g.nodes.size() == 2);
  CHECK(g.nodes[0].op == OpKind::MatMul);
  CHECK(g.const_data(g.find("m")) == nullptr);
  const std::vector<std::string>& notes = report.notes();
  CHECK(std::find(notes.begin(), notes.end(), "refused 'm': costs over 1e+09 FLOPs") != notes.end());
}
