// --bisect-passes must name the pass that changed the results: a test-only pass that perturbs
// one weight is planted in a real pipeline, and the bisection has to find it among the others.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "ir_test_util.h"
#include "passes/bisect_passes.h"

using namespace nnc;
using nnc::testing::parse_typed;

namespace {

// Scales the weights of the first Conv by 1.01, as a pass with an off-by-a-little bug would.
PassReport perturb_one_weight(Graph& g) {
  PassReport report("perturb-one-weight");
  for (const Node& n : g.nodes) {
    if (n.op != OpKind::Conv || !g.const_data(n.inputs[1])) continue;
    Value& w = g.value(n.inputs[1]);
    Tensor t = w.data->clone();
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] *= 1.01f;
    w.data = std::make_shared<const Tensor>(std::move(t));
    report.count_change();
    break;
  }
  return report;
}

const char* kNet = R"(graph t opset=13
input  %x  f32[1,3,12,12]
const  @w1 f32[8,3,3,3]  random(seed=1)
const  @b1 f32[8]        random(seed=2)
const  @s  f32[8]        [1.5, 0.5, 1.0, 2.0, 1.0, 0.8, 1.2, 0.9]
const  @m  f32[8]        random(seed=3)
const  @v  f32[8]        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
const  @o  f32[8]        random(seed=4)
const  @w2 f32[4,8,3,3]  random(seed=5)
%c  f32[1,8,12,12] = Conv %x, @w1, @b1 pads=[1,1,1,1]
%bn f32[1,8,12,12] = BatchNormalization %c, @s, @o, @m, @v
%r  f32[1,8,12,12] = Relu %bn
%y  f32[1,4,12,12] = Conv %r, @w2 pads=[1,1,1,1]
%i  f32[1,4,12,12] = Identity %y
return %i
)";

std::vector<PassInfo> table_with(bool planted) {
  std::vector<PassInfo> table;
  for (const PassInfo& p : pass_table()) {
    table.push_back(p);
    if (planted && std::string(p.name) == "fold-batchnorm")
      table.push_back({"perturb-one-weight", perturb_one_weight, 1, "test only: scales one weight by 1.01"});
  }
  return table;
}

}  // namespace

TEST_CASE("bisect-passes: finds a planted pass that perturbs one weight, and writes the graphs around it") {
  const Graph g = parse_typed(kNet);
  const std::vector<Tensor> inputs = {random_tensor(DType::F32, {1, 3, 12, 12}, 9)};
  PipelineOptions options;
  options.table = table_with(true);
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / fmt::format("nnc_bisect_{}", ::getpid());
  const BisectResult r = bisect_passes(g, inputs, options, 1e-4, dir);
  for (const std::string& line : r.log) MESSAGE(line);
  REQUIRE(r.found);
  CHECK(r.pass == "perturb-one-weight");
  CHECK(r.before.rel_l2 <= 1e-4);
  CHECK(r.after.rel_l2 > 1e-3);
  CHECK(r.changed_passes >= 4);  // remove-identities, fold-batchnorm, the plant, fuse-activations, ...
  CHECK(int(r.log.size()) < r.changed_passes + 1);  // a binary search, not every snapshot
  REQUIRE(std::filesystem::exists(r.before_dump));
  REQUIRE(std::filesystem::exists(r.after_dump));
  CHECK(r.after_dump.filename().string().find("perturb-one-weight") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("bisect-passes: a healthy pipeline has no divergence") {
  const Graph g = parse_typed(kNet);
  const std::vector<Tensor> inputs = {random_tensor(DType::F32, {1, 3, 12, 12}, 9)};
  PipelineOptions options;
  options.table = table_with(false);
  const BisectResult r = bisect_passes(g, inputs, options, 1e-4, std::filesystem::temp_directory_path());
  CHECK(r.changed_passes >= 3);
  CHECK(!r.found);
  REQUIRE(r.log.size() == 1);  // only the last snapshot needed evaluating
}
