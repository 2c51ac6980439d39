#include <doctest/doctest.h>

#include <filesystem>

#include "ir_test_util.h"
#include "passes/eliminate_dead_code.h"
#include "passes/pipeline.h"
#include "passes/remove_identities.h"

using namespace nnc;
using nnc::testing::expect_ir;
using nnc::testing::expect_same_outputs;
using nnc::testing::parse_typed;

TEST_CASE("eliminate-dead-code: removes a chain nobody reads and the constant only it used") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[4]
const  @k  f32[4] [1.0, 2.0, 3.0, 4.0]
%a  f32[4]  = Relu  %x
%b  f32[4]  = Add   %a, @k
%c  f32[4]  = Neg   %b
return %a
)");
  CHECK(eliminate_dead_code(g).rewrites() == 2);
  expect_ir(g, R"(graph t opset=17
input %x f32[4]
%a f32[4] = Relu %x
return %a
)");
}

TEST_CASE("eliminate-dead-code: must not fire when every node feeds an output") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[4]
%a  f32[4]  = Relu  %x
%b  f32[4]  = Neg   %a
return %a, %b
)");
  const std::string before = print_ir(g);
  CHECK(eliminate_dead_code(g).rewrites() == 0);
  CHECK(print_ir(g) == before);
}

TEST_CASE("remove-identities: drops Identity, Dropout and a Cast to the same type, keeping results") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[2,3]
%i  f32[2,3]  = Identity  %x
%d  f32[2,3]  = Dropout   %i
%c  f32[2,3]  = Cast      %d  to=1
%y  f32[2,3]  = Relu      %c
return %y
)");
  const Graph before = g;
  CHECK(remove_identities(g).rewrites() == 3);
  CHECK(eliminate_dead_code(g).rewrites() == 0);
  expect_ir(g, R"(graph t opset=17
input %x f32[2,3]
%y f32[2,3] = Relu %x
return %y
)");
  const Tensor x = Tensor::from_vector<float>({2, 3}, {-1, 2, -3, 4, -5, 6});
  const Tensor y0 = run_reference(before, std::vector<Tensor>{x})[0];
  const Tensor y1 = run_reference(g, std::vector<Tensor>{x})[0];
  for (int i = 0; i < 6; ++i) CHECK(y0.data<float>()[i] == y1.data<float>()[i]);
}

TEST_CASE("remove-identities: must not fire on a graph output, a real Cast or a used Dropout mask") {
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[2,3]
%c      i64[2,3]  = Cast      %x  to=7
%d, %m  f32[2,3], bool[2,3]  = Dropout   %x
%y      f32[2,3]  = Identity  %d
return %y, %c, %m
)");
  const std::string before = print_ir(g);
  const PassReport report = remove_identities(g);
  CHECK(report.rewrites() == 0);
  CHECK(print_ir(g) == before);
  REQUIRE(report.notes().size() == 1);
  CHECK(report.notes()[0].find("graph output") != std::string::npos);
}

TEST_CASE("pipeline: dumps only after passes that changed the graph, numbered in order") {
  const auto dir = std::filesystem::temp_directory_path() / "nnc_pipeline_dumps";
  std::filesystem::remove_all(dir);
  Graph g = parse_typed(R"(graph t opset=17
input  %x  f32[4]
%i  f32[4]  = Identity  %x
%y  f32[4]  = Relu      %i
return %y
)");
  const std::vector<PassReport> reports = run_pipeline(g, {.level = 1, .dump_dir = dir}).reports;
  size_t level_one_passes = 0;
  for (const PassInfo& p : pass_table()) level_one_passes += p.level <= 1 ? 1 : 0;
  CHECK(reports.size() == level_one_passes);
  CHECK(std::filesystem::exists(dir / "00-input.nnc"));
  CHECK(std::filesystem::exists(dir / "01-remove-identities.nnc"));
  CHECK(std::filesystem::exists(dir / "01-remove-identities.dot"));
  CHECK(!std::filesystem::exists(dir / "01-fold-constants.nnc"));
  CHECK(std::filesystem::exists(dir / "summary.txt"));
  CHECK(g.nodes.size() == 1);
}

TEST_CASE("pipeline: an unknown --disable-pass name is an error listing the passes") {
  Graph g = parse_typed("graph t opset=17\ninput %x f32[1]\n%y f32[1] = Relu %x\nreturn %y\n");
  CHECK_THROWS_WITH_AS(run_pipeline(g, {.disabled = {"fold-everything"}}), doctest::Contains("fold-constants"), Error);
}

TEST_CASE("remove-identities: a Transpose pair that cancels disappears; one that does not composes") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x  f32[2,3,4]
%t  f32[2,4,3]  = Transpose  %x  perm=[0,2,1]
%y  f32[2,3,4]  = Transpose  %t  perm=[0,2,1]
%z  f32[2,3,4]  = Relu       %y
return %z
)");
  const Graph before = g;
  CHECK(remove_identities(g).rewrites() == 2);  // composed, then the identity removed
  eliminate_dead_code(g);
  expect_ir(g, R"(graph t opset=13
input %x f32[2,3,4]
%z f32[2,3,4] = Relu %x
return %z
)");
  expect_same_outputs(before, g);

  Graph h = parse_typed(R"(graph t opset=13
input  %x  f32[2,3,4]
%t  f32[4,3,2]  = Transpose  %x
%y  f32[3,2,4]  = Transpose  %t  perm=[1,2,0]
return %y
)");
  const Graph h_before = h;
  CHECK(remove_identities(h).rewrites() == 1);
  eliminate_dead_code(h);
  expect_ir(h, R"(graph t opset=13
input %x f32[2,3,4]
%y f32[3,2,4] = Transpose %x perm=[1,0,2] # from t, y
return %y
)");
  expect_same_outputs(h_before, h);
}

TEST_CASE("remove-identities: a Transpose pair whose middle is also read keeps the first Transpose") {
  Graph g = parse_typed(R"(graph t opset=13
input  %x  f32[2,3]
%t  f32[3,2]  = Transpose  %x
%y  f32[2,3]  = Transpose  %t
%z  f32[2,3]  = Relu       %y
return %z, %t
)");
  const Graph before = g;
  remove_identities(g);
  eliminate_dead_code(g);
  CHECK(g.count(OpKind::Transpose) == 1);
  expect_same_outputs(before, g);
}
