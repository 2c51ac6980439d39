// Multi-scale deformable attention against PyTorch: the MSDeformAttn op (reference kernel and
// fast tactic), the fuse-deform-attn pass and the three custom-node spellings, on the cases
// tools/reference/deform_attn.py writes (odd map sizes, a one-pixel-high level, points outside
// the maps). Expected outputs are PyTorch's grid_sample formulation, checked there against a
// direct float64 sampler; nnc never writes them.
#include <doctest/doctest.h>

#include <filesystem>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "core/api.h"
#include "core/compare.h"
#include "core/npy.h"
#include "importers/onnx/onnx_importer.h"
#include "ir_test_util.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kCases = fs::path(NNC_SOURCE_DIR) / "tests/data/deform_attn";
const char* const kCaseNames[] = {"odd_levels", "one_level", "four_levels"};
const int kCaseLevels[] = {3, 1, 4};
const char* const kInputs[] = {"value", "sampling_locations", "attention_weights"};

std::map<std::string, Tensor> case_inputs(const fs::path& dir) {
  std::map<std::string, Tensor> inputs;
  for (const char* name : kInputs) inputs[name] = read_npy(dir / (std::string(name) + ".npy"));
  return inputs;
}

// PyTorch's output is [B, Q, M·D]; TensorRT's plugin layout [B, Q, M, D] holds the same floats.
void check_against_pytorch(const Tensor& actual, const fs::path& dir, const std::string& what, double tolerance = 1e-5) {
  Tensor expected = read_npy(dir / "output.npy");
  REQUIRE(actual.numel() == expected.numel());
  REQUIRE(actual.dims()[0] == expected.dims()[0]);
  REQUIRE(actual.dims()[1] == expected.dims()[1]);
  const Tensor flat_actual = Tensor::from_vector<float>({actual.numel()}, std::vector<float>(actual.data<float>(), actual.data<float>() + actual.numel()));
  const Tensor flat_expected = Tensor::from_vector<float>({expected.numel()}, std::vector<float>(expected.data<float>(), expected.data<float>() + expected.numel()));
  const Difference d = compare(flat_actual, flat_expected);
  MESSAGE(fmt::format("{}: rel L2 {:.3g}, max abs {:.3g}", what, d.rel_l2, d.max_abs));
  CHECK(d.rel_l2 < tolerance);
}

int count_ops(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op == op;
  return n;
}

}  // namespace

TEST_CASE("deformable attention: every spelling, optimised and not, matches PyTorch") {
  for (int c = 0; c < 3; ++c) {
    const char* name = kCaseNames[c];
    const fs::path dir = kCases / name;
    const auto inputs = case_inputs(dir);
    for (const char* model_name : {"decomposed", "mmdeploy", "trt_plugin", "nnc"}) {
      for (const int level : {0, 2}) {
        LoadOptions options;
        options.passes.level = level;
        options.tuning.prefer_tactics = true;  // the fused tactic, not the reference kernel
        const Model model = load_model(dir / (std::string(model_name) + ".onnx"), options);
        const auto outputs = Session(model).run(inputs);
        check_against_pytorch(outputs.at("output"), dir, fmt::format("{} {}.onnx -O{}", name, model_name, level));
        if (std::string(model_name) == "decomposed") {
          // -O2 fuses the GridSample decomposition into one op; -O0 runs it as exported.
          CHECK(count_ops(model.graph(), OpKind::MSDeformAttn) == (level == 2 ? 1 : 0));
          CHECK(count_ops(model.graph(), OpKind::GridSample) == (level == 2 ? 0 : kCaseLevels[c]));
        } else {
          CHECK(count_ops(model.graph(), OpKind::MSDeformAttn) == 1);
        }
        if (level == 2) {
          bool fused_tactic = false;
          for (const auto& kernel : model.tuning().kernels) fused_tactic |= kernel && kernel->tactic() == "deform-attn.fused-taps";
          CHECK(fused_tactic);
        }
      }
    }
  }
}

TEST_CASE("deformable attention: the fused tactic matches PyTorch with 1 and 2 threads") {
  for (const char* name : kCaseNames) {
    const fs::path dir = kCases / name;
    const Graph g = import_onnx_file(dir / "nnc.onnx");
    const Node& node = g.nodes.at(0);
    REQUIRE(node.op == OpKind::MSDeformAttn);
    const cpu::Tactic* tactic = nullptr;
    for (const cpu::Tactic& t : cpu::cpu_tactics())
      if (t.op == OpKind::MSDeformAttn) tactic = &t;
    REQUIRE(tactic != nullptr);
    REQUIRE(tactic->rejects(g, node) == "");
    const auto inputs = case_inputs(dir);
    const Tensor* ordered[] = {&inputs.at("value"), g.const_data(node.inputs[1]), g.const_data(node.inputs[2]),
                               &inputs.at("sampling_locations"), &inputs.at("attention_weights")};
    for (const int threads : {1, 2}) {
      cpu::set_thread_count(threads);
      const auto kernel = tactic->prepare(g, node);
      const std::vector<Tensor> out = run_node(node, ordered, g.opset, nullptr, nullptr, kernel.get());
      check_against_pytorch(out[0], dir, fmt::format("{} fused tactic, {} threads", name, threads));
    }
    cpu::set_thread_count(0);
  }
}

TEST_CASE("deformable attention: the pass names every source node and leaves other GridSamples alone") {
  const fs::path dir = kCases / "odd_levels";
  LoadOptions options;
  options.tune = false;
  const Model model = load_model(dir / "decomposed.onnx", options);
  const Node* fused = nullptr;
  for (const Node& n : model.graph().nodes)
    if (n.op == OpKind::MSDeformAttn) fused = &n;
  REQUIRE(fused != nullptr);
  // Three levels: three GridSamples among the sources, plus the stack, product and sum.
  int grid_samples = 0;
  for (const std::string& s : fused->sources) grid_samples += s.find("GridSample") != std::string::npos;
  CHECK(grid_samples == 3);
  CHECK(std::find(fused->sources.begin(), fused->sources.end(), "/ReduceSum") != fused->sources.end());

  // A lone GridSample (grid_sample used for warping, not attention) is not touched.
  const Graph warp = nnc::testing::parse_typed(R"(
graph warp opset=16
input  %x     f32[1,3,8,8]
input  %grid  f32[1,4,4,2]
%y  f32[1,3,4,4] = GridSample %x, %grid
return %y
)");
  Graph copy = warp;
  PipelineOptions passes;
  run_pipeline(copy, passes);
  CHECK(count_ops(copy, OpKind::GridSample) == 1);
}

TEST_CASE("deformable attention: malformed level tables are errors naming the node") {
  const auto run_with = [](const std::string& shapes, const std::string& starts) {
    const std::string text = fmt::format(R"(
graph bad opset=16
input  %value      f32[1,10,2,4]
input  %locations  f32[1,3,2,2,1,2]
input  %weights    f32[1,3,2,2,1]
const  @shapes     i64[2,2] [{}]
const  @starts     i64[2] [{}]
%out  f32[1,3,8] = MSDeformAttn %value, @shapes, @starts, %locations, %weights
return %out
)",
                                         shapes, starts);
    Graph g = parse_ir(text);
    infer_types(g);
  };
  CHECK_NOTHROW(run_with("2, 3, 2, 2", "0, 6"));
  const auto message = [&](const std::string& shapes, const std::string& starts) {
    try {
      run_with(shapes, starts);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::BadInput);
      CHECK(std::string(e.what()).find("(MSDeformAttn)") != std::string::npos);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message("2, 3, 2, 3", "0, 6").find("the levels hold 12 rows or more, but value has S = 10") != std::string::npos);
  CHECK(message("2, 3, 1, 1", "0, 6").find("hold 7 rows") != std::string::npos);
  CHECK(message("2, 3, 2, 2", "0, 5").find("level_start_index[1] is 5") != std::string::npos);
  CHECK(message("2, 0, 2, 5", "0, 0").find("level 0 has spatial shape 2x0") != std::string::npos);
  CHECK(message("-2, -3, 2, 2", "0, 6").find("each side must be 1 to 2^31-1") != std::string::npos);
}
