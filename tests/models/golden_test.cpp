// Golden models: nnc's outputs against PyTorch's, saved by tools/reference/export_goldens.py
// (tests/data/golden/<model>/model.onnx, input_0.npy, output_<k>.npy). Never regenerated from
// nnc. Tolerance: relative L2 under 1e-4 per output (fp32 through a different summation order).
#include <doctest/doctest.h>

#include <filesystem>

#include "core/api.h"
#include "core/compare.h"
#include "core/ir_text.h"
#include "core/npy.h"
#include "passes/plan_memory.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = fs::path(NNC_SOURCE_DIR) / "tests/data/golden";

Model load_golden(const std::string& name, int optimization_level) {
  const fs::path path = kGoldenDir / name / "model.onnx";
  REQUIRE_MESSAGE(fs::exists(path), "missing golden model " << path.string());
  LoadOptions options;
  options.passes.level = optimization_level;
  return load_model(path, options);
}

void check_golden_at(const std::string& name, int optimization_level) {
  const fs::path dir = kGoldenDir / name;
  const Model model = load_golden(name, optimization_level);
  const std::vector<std::string> inputs = model.input_names();
  REQUIRE(inputs.size() == 1);
  const Session session(model);
  const std::map<std::string, Tensor> outputs = session.run({{inputs[0], read_npy(dir / "input_0.npy")}});
  const std::vector<std::string> names = model.output_names();
  for (size_t k = 0; k < names.size(); ++k) {
    const Tensor expected = read_npy(dir / fmt::format("output_{}.npy", k));
    const Tensor& actual = outputs.at(names[k]);
    REQUIRE(actual.dims() == expected.dims());
    const Difference d = compare(actual, expected);
    MESSAGE(fmt::format("{} -O{} output {} ({}): rel L2 {:.3g}, max abs {:.3g}", name, optimization_level, k, names[k],
                        d.rel_l2, d.max_abs));
    CHECK(d.rel_l2 < 1e-4);
  }
}

// At -O2 (the default pipeline: BN folding, fusions) and at -O0 (the graph as imported), so a
// pass bug and a kernel bug show up as different failures.
void check_golden(const std::string& name) {
  check_golden_at(name, 2);
  check_golden_at(name, 0);
}


}  // namespace

TEST_CASE("golden: our CNN (Conv/BN/ReLU/MaxPool ceil/bilinear Resize/Concat) matches PyTorch") { check_golden("cnn"); }

TEST_CASE("golden: our transformer block at opset 17 (LayerNormalization, GELU) matches PyTorch") {
  check_golden("transformer");
}

TEST_CASE("golden: the same transformer block at opset 13 (decomposed LayerNorm) matches PyTorch") {
  check_golden("transformer_op13");
}

TEST_CASE("golden: a diffusion U-Net residual block (GroupNorm, SiLU, conv, skip) matches PyTorch") {
  check_golden("resblock");
}

TEST_CASE("golden: -O2 turns the resblock's spelled-out GroupNorms into GroupNormalization and its skip into a conv residual") {
  const Model model = load_golden("resblock", 2);
  CHECK(model.graph().count(OpKind::GroupNormalization) == 2);
  CHECK(model.graph().count(OpKind::InstanceNormalization) == 0);
  CHECK(model.graph().count(OpKind::Add) == 0);
}

TEST_CASE("golden: U2NETP at 320x320 with BatchNormalization nodes matches PyTorch on all 7 outputs") {
  check_golden("u2netp");
}

TEST_CASE("golden: torchvision squeezenet1_1 (an architecture we did not write) matches PyTorch") {
  check_golden("squeezenet1_1");
}

TEST_CASE("golden: torchvision shufflenet_v2_x0_5 (channel shuffle via Reshape/Transpose) matches PyTorch") {
  check_golden("shufflenet_v2_x0_5");
}

TEST_CASE("golden: the IR text of U2NETP parses back to the identical text") {
  const Model model = load_golden("u2netp", 0);
  const std::string text = print_ir(model.graph());
  CHECK(print_ir(parse_ir(text)) == text);
  CHECK(model.graph().count(OpKind::BatchNormalization) == 112);
}

TEST_CASE("golden: -O2 folds all 112 BatchNormalization nodes and ReLUs of U2NETP into its convolutions") {
  const Model model = load_golden("u2netp", 2);
  CHECK(model.graph().count(OpKind::BatchNormalization) == 0);
  CHECK(model.graph().count(OpKind::Conv) == 119);
  CHECK(model.graph().count(OpKind::Relu) == 0);  // all 112 fused into their convolutions
}

TEST_CASE("golden: -O2 turns the opset-13 transformer's decomposed LayerNorm and GELU into single ops") {
  const Model model = load_golden("transformer_op13", 2);
  CHECK(model.graph().count(OpKind::LayerNormalization) == 2);
  CHECK(model.graph().count(OpKind::ReduceMean) == 0);
  CHECK(model.graph().count(OpKind::Erf) == 0);
  int gelu_epilogues = 0;
  for (const Node& n : model.graph().nodes) gelu_epilogues += n.op == OpKind::MatMul && n.has_attr("act") ? 1 : 0;
  CHECK(gelu_epilogues == 1);  // the MLP's fc1: MatMul + bias + Gelu in one node
}

TEST_CASE("golden: U2NETP's memory plan: every Concat zero-copy, arena within 10% of the bound, same bits as unplanned") {
  // Reference kernels on both sides: tuning may pick different tactics for two loads (their
  // timings are close), and this test is about where tensors live, not which kernel runs.
  LoadOptions planned_options;
  planned_options.tune = false;
  const Model planned = load_model(kGoldenDir / "u2netp/model.onnx", planned_options);
  REQUIRE(planned.memory_plan());
  const MemoryPlan& plan = *planned.memory_plan();
  CHECK(planned.graph().count(OpKind::Concat) == plan.zero_copy_concats);
  CHECK(double(plan.arena_bytes) <= 1.1 * double(plan.lower_bound_bytes));
  CHECK(plan.arena_bytes < plan.naive_bytes / 2);
  MESSAGE(describe(plan));

  LoadOptions options;
  options.plan_memory = false;
  options.tune = false;
  const Model unplanned = load_model(kGoldenDir / "u2netp/model.onnx", options);
  CHECK(!unplanned.memory_plan());
  const Tensor input = read_npy(kGoldenDir / "u2netp/input_0.npy");
  const auto a = Session(planned).run({{"input", input}});
  const auto b = Session(unplanned).run({{"input", input}});
  for (const auto& [name, tensor] : a) CHECK(compare(tensor, b.at(name)).max_abs == 0);

  // A session keeps its arena between runs: a second run on another input must leave the
  // first run's outputs alone and give what a fresh session gives.
  const Session session(planned);
  const auto first = session.run({{"input", input}});
  const Tensor other_input = random_tensor(DType::F32, input.dims(), 7);
  const auto second = session.run({{"input", other_input}});
  const auto fresh = Session(planned).run({{"input", other_input}});
  for (const auto& [name, tensor] : a) {
    CHECK(compare(first.at(name), tensor).max_abs == 0);
    CHECK(compare(second.at(name), fresh.at(name)).max_abs == 0);
    CHECK(compare(second.at(name), tensor).max_abs > 0);
  }
}
