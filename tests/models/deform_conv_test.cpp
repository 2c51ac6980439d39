// Deformable convolution against torchvision.ops.deform_conv2d: ONNX's DeformConv and mmcv's
// MMCVModulatedDeformConv2d node, the reference kernel and the im2col-gemm tactic, on the cases
// tools/reference/deform_conv.py writes (offsets reaching outside the image, offset groups,
// stride, dilation, groups, a non-square kernel, with and without mask and bias).
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

const fs::path kCases = fs::path(NNC_SOURCE_DIR) / "tests/data/deform_conv";

std::map<std::string, Tensor> case_inputs(const fs::path& dir) {
  std::map<std::string, Tensor> inputs{{"x", read_npy(dir / "x.npy")}, {"offset", read_npy(dir / "offset.npy")}};
  if (fs::exists(dir / "mask.npy")) inputs["mask"] = read_npy(dir / "mask.npy");
  return inputs;
}

void check_against_torchvision(const Tensor& actual, const fs::path& dir, const std::string& what) {
  const Tensor expected = read_npy(dir / "output.npy");
  REQUIRE(actual.dims() == expected.dims());
  const Difference d = compare(actual, expected);
  MESSAGE(fmt::format("{}: rel L2 {:.3g}, max abs {:.3g}", what, d.rel_l2, d.max_abs));
  CHECK(d.rel_l2 < 1e-5);
}

}  // namespace

TEST_CASE("deformable conv: ONNX DeformConv and mmcv's node, optimised and not, match torchvision") {
  for (const char* name : {"modulated", "strided_grouped"}) {
    const fs::path dir = kCases / name;
    for (const char* model_name : {"onnx", "mmcv"}) {
      if (!fs::exists(dir / (std::string(model_name) + ".onnx"))) continue;  // mmcv's node is always modulated
      for (const int level : {0, 2}) {
        LoadOptions options;
        options.passes.level = level;
        options.tuning.prefer_tactics = true;
        const Model model = load_model(dir / (std::string(model_name) + ".onnx"), options);
        check_against_torchvision(Session(model).run(case_inputs(dir)).at("y"), dir,
                                  fmt::format("{} {}.onnx -O{}", name, model_name, level));
        if (level == 2) {
          bool tactic = false;
          for (const auto& kernel : model.tuning().kernels) tactic |= kernel && kernel->tactic() == "deform-conv.im2col-gemm";
          CHECK(tactic);
        }
      }
    }
  }
}

TEST_CASE("deformable conv: the im2col-gemm tactic matches torchvision with 1 and 2 threads") {
  for (const char* name : {"modulated", "strided_grouped"}) {
    const fs::path dir = kCases / name;
    const Graph g = import_onnx_file(dir / "onnx.onnx");
    const Node& node = g.nodes.at(0);
    REQUIRE(node.op == OpKind::DeformConv);
    const cpu::Tactic* tactic = nullptr;
    for (const cpu::Tactic& t : cpu::cpu_tactics())
      if (t.op == OpKind::DeformConv) tactic = &t;
    REQUIRE(tactic != nullptr);
    REQUIRE(tactic->rejects(g, node) == "");
    const auto inputs = case_inputs(dir);
    std::vector<const Tensor*> ordered = {&inputs.at("x"), g.const_data(node.inputs[1]), &inputs.at("offset")};
    ordered.push_back(node.has_input(3) ? g.const_data(node.inputs[3]) : nullptr);
    if (node.has_input(4)) ordered.push_back(&inputs.at("mask"));
    for (const int threads : {1, 2}) {
      cpu::set_thread_count(threads);
      const auto kernel = tactic->prepare(g, node);
      const std::vector<Tensor> out = run_node(node, ordered, g.opset, nullptr, nullptr, kernel.get());
      check_against_torchvision(out[0], dir, fmt::format("{} tactic, {} threads", name, threads));
    }
    cpu::set_thread_count(0);
  }
}

TEST_CASE("deformable conv: inconsistent offsets, masks and groups are errors naming the node") {
  const auto error_of = [](const std::string& offset, const std::string& mask, const std::string& attrs) {
    const std::string text = fmt::format(R"(
graph bad opset=19
input  %x       f32[1,4,6,6]
input  %offset  f32[{}]
input  %mask    f32[{}]
const  @w       f32[8,4,3,3]  fill(0.5)
%y  f32[1,8,6,6] = DeformConv %x, @w, %offset, _, %mask  pads=[1,1,1,1] {}
return %y
)",
                                         offset, mask, attrs);
    try {
      nnc::testing::parse_typed(text);
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::BadInput);
      CHECK(std::string(e.what()).find("(DeformConv)") != std::string::npos);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("1,18,6,6", "1,9,6,6", "") == "no error");
  CHECK(error_of("1,36,6,6", "1,18,6,6", "offset_group=2") == "no error");
  CHECK(error_of("1,16,6,6", "1,9,6,6", "").find("offset's channels") != std::string::npos);
  CHECK(error_of("1,18,6,6", "1,8,6,6", "").find("mask's channels") != std::string::npos);
  CHECK(error_of("1,18,5,6", "1,9,6,6", "").find("offset's dim 2 is 5 but must be 6") != std::string::npos);
  CHECK(error_of("1,36,6,6", "1,18,6,6", "offset_group=3").find("not divisible by offset_group=3") != std::string::npos);
  CHECK(error_of("1,18,6,6", "1,9,6,6", "group=3").find("not divisible by group=3") != std::string::npos);
  CHECK(error_of("1,18,6,6", "1,9,6,6", "group=0").find("group = 0") != std::string::npos);
}

TEST_CASE("deformable conv: the GridSample-per-tap export becomes one DeformConv (fuse-deform-conv)") {
  const fs::path dir = kCases / "decomposable";
  for (const int level : {0, 2}) {
    LoadOptions options;
    options.passes.level = level;
    const Model model = load_model(dir / "decomposed.onnx", options);
    int deform = 0, samplers = 0;
    const Node* fused = nullptr;
    for (const Node& n : model.graph().nodes) {
      deform += n.op == OpKind::DeformConv;
      samplers += n.op == OpKind::GridSample;
      if (n.op == OpKind::DeformConv) fused = &n;
    }
    CHECK(deform == (level == 2 ? 1 : 0));
    CHECK(samplers == (level == 2 ? 0 : 9));
    if (fused) {  // the geometry read off the grids: torchvision's stride (2, 1), padding (2, 1), dilation (2, 1)
      CHECK(attr_ints(*fused, "strides") == std::vector<int64_t>{2, 1});
      CHECK(attr_ints(*fused, "dilations") == std::vector<int64_t>{2, 1});
      CHECK(attr_ints(*fused, "pads")[0] == 2);
      CHECK(attr_ints(*fused, "pads")[1] == 1);
      CHECK(attr_ints(*fused, "kernel_shape") == std::vector<int64_t>{3, 3});
    }
    check_against_torchvision(Session(model).run(case_inputs(dir)).at("y"), dir,
                              fmt::format("decomposable decomposed.onnx -O{}", level));
  }
}

TEST_CASE("deformable conv: GridSamples that are not a convolution window stay as they are") {
  // Two taps sampled at grids given from outside: nothing ties them to a window and an offset.
  Graph g = nnc::testing::parse_typed(R"(
graph warp opset=16
input  %x      f32[1,3,6,6]
input  %grid0  f32[1,6,6,2]
input  %grid1  f32[1,6,6,2]
const  @axis   i64[1]         [2]
const  @shape  i64[4]         [1, 6, 6, 6]
const  @w      f32[4,6,1,1]   fill(0.25)
%s0    f32[1,3,6,6]    = GridSample %x, %grid0  align_corners=1
%s1    f32[1,3,6,6]    = GridSample %x, %grid1  align_corners=1
%u0    f32[1,3,1,6,6]  = Unsqueeze %s0, @axis
%u1    f32[1,3,1,6,6]  = Unsqueeze %s1, @axis
%cat   f32[1,3,2,6,6]  = Concat %u0, %u1  axis=2
%cols  f32[1,6,6,6]    = Reshape %cat, @shape
%y     f32[1,4,6,6]    = Conv %cols, @w
return %y
)");
  PipelineOptions passes;
  passes.explain = "fuse-deform-conv";
  const PipelineResult result = run_pipeline(g, passes);
  int samplers = 0;
  for (const Node& n : g.nodes) samplers += n.op == OpKind::GridSample;
  CHECK(samplers == 2);
  bool refused = false;
  for (const PassReport& r : result.reports)
    for (const std::string& note : r.notes())
      refused |= r.pass() == "fuse-deform-conv" && note.find("the grids are not base pixels plus") != std::string::npos;
  CHECK(refused);
}
