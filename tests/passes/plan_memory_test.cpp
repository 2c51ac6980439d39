#include <doctest/doctest.h>

#include "ir_test_util.h"
#include "passes/eliminate_concat.h"
#include "passes/plan_memory.h"

using namespace nnc;
using nnc::testing::parse_typed;

namespace {

// A U-Net skip: two producers feeding one Concat on the channel axis, then a consumer.
const char* kSkip = R"(graph t opset=13
input  %x   f32[1,2,4,4]
const  @w1  f32[3,2,1,1]  random(seed=1)
const  @w2  f32[5,2,1,1]  random(seed=2)
const  @w3  f32[1,8,1,1]  random(seed=3)
%a    f32[1,3,4,4]  = Conv    %x, @w1
%b    f32[1,5,4,4]  = Conv    %x, @w2
%cat  f32[1,8,4,4]  = Concat  %a, %b  axis=1
%r    f32[1,8,4,4]  = Relu    %cat
%y    f32[1,1,4,4]  = Conv    %r, @w3
return %y
)";

std::vector<Tensor> run(const Graph& g, const MemoryPlan* plan) {
  std::vector<Tensor> inputs;
  for (ValueId id : g.inputs) inputs.push_back(random_tensor(g.type(id).dtype, g.type(id).shape.concrete(), 7));
  InterpreterOptions options;
  options.plan = plan;
  return run_reference(g, inputs, options);
}

}  // namespace

TEST_CASE("eliminate-concat + plan-memory: producers write into their slices and the Concat is skipped") {
  Graph g = parse_typed(kSkip);
  const std::vector<Tensor> expected = run(g, nullptr);
  const PassReport report = eliminate_concat(g);
  CHECK(report.rewrites() == 1);
  CHECK(report.summary_text().find("1 Concats became zero-copy") != std::string::npos);
  const MemoryPlan plan = plan_memory(g);
  const auto offset = [&](const char* name) { return plan.offset[size_t(g.find(name))]; };
  CHECK(plan.zero_copy_concats == 1);
  CHECK(offset("a") == offset("cat"));
  CHECK(offset("b") == offset("cat") + 3 * 16 * 4);  // right after a's 3x4x4 floats
  CHECK(plan.skip_node[2]);
  CHECK(offset("y") == -1);  // graph outputs keep their own storage
  // The Concat's buffer also holds %a and %b, which other nodes might still read: nothing runs
  // in place over it, so the Relu gets bytes of its own.
  CHECK(plan.in_place == 0);
  CHECK(offset("r") >= 0);
  CHECK((offset("r") >= offset("cat") + 8 * 16 * 4 || offset("r") + 8 * 16 * 4 <= offset("cat")));
  CHECK(plan.arena_bytes <= plan.naive_bytes);
  CHECK(plan.arena_bytes >= plan.lower_bound_bytes);
  // Following the plan computes bit for bit what the plain interpreter computes.
  const std::vector<Tensor> planned = run(g, &plan);
  REQUIRE(planned.size() == 1);
  CHECK(compare(planned[0], expected[0]).max_abs == 0);
}

TEST_CASE("eliminate-concat: must not fire for a graph-output input, an input of two Concats, or strided slices") {
  {
    std::string text = kSkip;
    text.replace(text.find("return %y"), 9, "return %y, %a");
    Graph g = parse_typed(text);
    const PassReport report = eliminate_concat(g);
    CHECK(report.rewrites() == 0);
    REQUIRE(report.notes().size() == 1);
    CHECK(report.notes()[0].find("'a' is also a graph output") != std::string::npos);
  }
  {
    Graph g = parse_typed(R"(graph t opset=13
input  %x   f32[1,2,4,4]
const  @w1  f32[3,2,1,1]  random(seed=1)
const  @w2  f32[3,2,1,1]  random(seed=2)
%a    f32[1,3,4,4]  = Conv    %x, @w1
%b    f32[1,3,4,4]  = Conv    %x, @w2
%c1   f32[1,6,4,4]  = Concat  %a, %b  axis=1
%c2   f32[1,6,4,4]  = Concat  %b, %a  axis=1
%s    f32[1,6,4,4]  = Add     %c1, %c2
return %s
)");
    const std::vector<Tensor> expected = run(g, nullptr);
    const PassReport report = eliminate_concat(g);
    CHECK(report.rewrites() == 1);  // the first claims %a and %b; the second must copy
    REQUIRE(report.notes().size() == 2);
    CHECK(report.notes()[1].find("already lives inside another Concat") != std::string::npos);
    const MemoryPlan plan = plan_memory(g);
    CHECK(compare(run(g, &plan)[0], expected[0]).max_abs == 0);
  }
  {
    Graph g = parse_typed(R"(graph t opset=13
input  %x   f32[2,2,4,4]
const  @w1  f32[3,2,1,1]  random(seed=1)
const  @w2  f32[3,2,1,1]  random(seed=2)
%a    f32[2,3,4,4]  = Conv    %x, @w1
%b    f32[2,3,4,4]  = Conv    %x, @w2
%c    f32[2,6,4,4]  = Concat  %a, %b  axis=1
%y    f32[2,6,4,4]  = Relu    %c
return %y
)");
    const PassReport report = eliminate_concat(g);
    CHECK(report.rewrites() == 0);
    REQUIRE(report.notes().size() == 1);
    CHECK(report.notes()[0].find("strided slices") != std::string::npos);
  }
}

TEST_CASE("plan-memory: an elementwise op whose input dies there runs in place, bit for bit") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x  f32[1,4,8,8]
const  @w  f32[4,4,3,3]  random(seed=1)
%a  f32[1,4,8,8]  = Conv     %x, @w  pads=[1,1,1,1]
%b  f32[1,4,8,8]  = Sigmoid  %a
%c  f32[1,4,8,8]  = Mul      %b, %x
%d  f32[1,4,8,8]  = Conv     %c, @w  pads=[1,1,1,1]
return %d
)");
  const MemoryPlan plan = plan_memory(g);
  CHECK(plan.in_place == 2);  // Sigmoid over %a, then Mul over %b
  CHECK(plan.offset[size_t(g.find("a"))] == plan.offset[size_t(g.find("c"))]);
  CHECK(compare(run(g, &plan)[0], run(g, nullptr)[0]).max_abs == 0);
}

TEST_CASE("plan-memory: buffers whose lifetimes do not overlap share bytes; the arena meets the lower bound on a chain") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x  f32[1,4,8,8]
const  @w  f32[4,4,3,3]  random(seed=1)
%a  f32[1,4,8,8]  = Conv  %x, @w  pads=[1,1,1,1]
%b  f32[1,4,8,8]  = Conv  %a, @w  pads=[1,1,1,1]
%c  f32[1,4,8,8]  = Conv  %b, @w  pads=[1,1,1,1]
%d  f32[1,4,8,8]  = Conv  %c, @w  pads=[1,1,1,1]
return %d
)");
  const MemoryPlan plan = plan_memory(g);
  const int64_t tensor = 4 * 8 * 8 * 4;
  CHECK(plan.planned_values == 3);
  CHECK(plan.naive_bytes == 3 * tensor);
  CHECK(plan.lower_bound_bytes == 2 * tensor);  // a conv reads one buffer while writing another
  CHECK(plan.arena_bytes == 2 * tensor);
  CHECK(plan.offset[size_t(g.find("a"))] == plan.offset[size_t(g.find("c"))]);
}

TEST_CASE("plan-memory: a value read only inside an If branch stays alive until the If runs") {
  Graph g = parse_typed(R"(graph main opset=17
input  %c  bool[]
input  %x  f32[64]

%a  f32[64]  = Neg   %x
%b  f32[64]  = Relu  %x
%d  f32[64]  = Abs   %b
%y  f32[64]  = If  %c  then_branch=<graph> else_branch=<graph>
  {
    graph then_body opset=17
    outer  %a  f32[64]

    %t  f32[64]  = Relu  %a
    return %t
  }
  {
    graph else_body opset=17
    outer  %a  f32[64]

    %e  f32[64]  = Neg  %a
    return %e
  }
%z  f32[64]  = Add  %y, %d
return %z
)");
  const MemoryPlan plan = plan_memory(g);
  const auto offset = [&](const char* name) { return plan.offset[size_t(g.find(name))]; };
  // %a is captured by the If (node 3): %b and %d, live before it, may not take its bytes.
  CHECK(offset("a") >= 0);
  CHECK(offset("b") != offset("a"));
  CHECK(offset("d") != offset("a"));
  std::vector<Tensor> inputs = {Tensor::scalar<bool>(true), random_tensor(DType::F32, {64}, 3)};
  InterpreterOptions planned;
  planned.plan = &plan;
  CHECK(compare(run_reference(g, inputs, planned)[0], run_reference(g, inputs)[0]).max_abs == 0);
}
