// Whole-model runs with nodes on the (emulated) GPU: tensors stay in device memory between CUDA
// nodes, a CPU node in the middle gets its inputs downloaded first, a zero-copy Concat stays
// zero-copy on the device, and the outputs equal the unoptimised graph's. The transfer counts
// show what moved.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "backends/cuda/tactics.h"
#include "core/api.h"
#include "core/compare.h"

using namespace nnc;

namespace {

// Conv -> MaxPool -> two Convs -> Concat -> Transpose (no CUDA tactic: runs on the CPU) -> Softmax.
const char* kModel = R"(graph residency opset=17
input %x f32[1,3,20,20]
const @w1 f32[8,3,3,3] random(seed=1)
const @b1 f32[8] random(seed=2)
const @w2 f32[6,8,3,3] random(seed=3)
const @w3 f32[5,8,1,1] random(seed=4)
%c1 _ = Conv %x, @w1, @b1 pads=[1,1,1,1] act="Relu"
%p _ = MaxPool %c1 kernel_shape=[2,2] strides=[2,2]
%a _ = Conv %p, @w2 pads=[1,1,1,1]
%b _ = Conv %p, @w3
%cat _ = Concat %a, %b axis=1
%t _ = Transpose %cat perm=[0,2,3,1]
%y _ = Softmax %t axis=-1
return %y
)";

// The model in IR text, compiled with every node a GPU tactic can run on the emulated GPU
// (--device emulator), and as imported (-O0, the reference).
struct Compiled {
  Model model, reference;
};

Compiled compile_on_emulator(const std::string& text, const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() / ("nnc_" + name + "_" + std::to_string(::getpid()) + ".nnc");
  std::ofstream(path) << text;
  cuda::use_device({cuda::emulated_device(), false});
  LoadOptions options;
  options.tuning.exclusive_prefix = "cuda.";  // nnc --device emulator
  options.tuning.runs = 1;
  LoadOptions o0;
  o0.passes.level = 0;
  o0.tune = false;
  o0.plan_memory = false;
  Compiled c{load_model(path, options), load_model(path, o0)};
  std::filesystem::remove(path);
  return c;
}

}  // namespace

TEST_CASE("a model with nodes on the GPU keeps their tensors on the device and matches the reference") {
  const Compiled compiled = compile_on_emulator(kModel, "residency");
  const Model& model = compiled.model;
  const Model& reference = compiled.reference;

  int on_gpu = 0;
  for (const NodeKernel* k : model.kernels()) on_gpu += k && k->tactic().starts_with("cuda.");
  CHECK(on_gpu >= 4);  // the convs, the pool and the softmax
  REQUIRE(model.memory_plan());
  CHECK(model.memory_plan()->zero_copy_concats == 1);  // the convs write into the Concat's output

  const Tensor x = random_tensor(DType::F32, {1, 3, 20, 20}, 9);
  const Session session(model);
  const auto got = session.run({{"x", x}});
  const auto want = Session(reference).run({{"x", x}});
  const Difference d = compare(got.at("y"), want.at("y"));
  INFO("rel L2 " << d.rel_l2 << ", max abs " << d.max_abs);
  CHECK(d.rel_l2 < 1e-5);

  // One upload of x; the Transpose's input comes down, its output goes back up; y comes home.
  const TransferStats t = session.last_transfers();
  CHECK(t.uploads == 2);
  CHECK(t.downloads == 2);
  CHECK(t.upload_bytes == int64_t(x.nbytes()) + 11 * 10 * 10 * 4);
  CHECK(t.download_bytes == 2 * 11 * 10 * 10 * 4);

  // A tap sees every tensor as the GPU computed it: each CUDA output comes down at once.
  int tapped = 0;
  const auto tapped_run = session.run({{"x", x}}, nullptr, [&](const Node&, int, const Tensor&) { ++tapped; });
  CHECK(compare(tapped_run.at("y"), want.at("y")).rel_l2 < 1e-5);
  CHECK(tapped >= 6);
  CHECK(session.last_transfers().downloads >= on_gpu);
  cuda::use_device({});
}

TEST_CASE("a subgraph reading a tensor the GPU computed sees it (captured values come home first)") {
  const char* text = R"(graph captured opset=17
input %c bool[]
input %x f32[1,2,6,6]
const @w f32[4,2,3,3] random(seed=1)
%a _ = Conv %x, @w pads=[1,1,1,1]
%y f32[1,4,6,6] = If %c then_branch=<graph> else_branch=<graph>
  {
    graph then_body opset=17
    outer %a f32[1,4,6,6]
    %t f32[1,4,6,6] = Relu %a
    return %t
  }
  {
    graph else_body opset=17
    outer %a f32[1,4,6,6]
    %e f32[1,4,6,6] = Neg %a
    return %e
  }
return %y
)";
  const Compiled compiled = compile_on_emulator(text, "captured");
  const Model& model = compiled.model;
  const Model& reference = compiled.reference;
  bool conv_on_gpu = false;
  for (const NodeKernel* k : model.kernels()) conv_on_gpu = conv_on_gpu || (k && k->tactic().starts_with("cuda.conv"));
  CHECK(conv_on_gpu);
  const Tensor x = random_tensor(DType::F32, {1, 2, 6, 6}, 3);
  for (const bool branch : {true, false}) {
    const Tensor c = Tensor::scalar<bool>(branch);
    const auto got = Session(model).run({{"c", c}, {"x", x}});
    const auto want = Session(reference).run({{"c", c}, {"x", x}});
    CHECK(compare(got.at("y"), want.at("y")).rel_l2 < 1e-5);
  }
  cuda::use_device({});
}

TEST_CASE("a model wholly on the GPU is recorded once and replayed, with new inputs each run") {
  // Every node has a CUDA kernel (the Concat is zero-copy): the whole run can be one recording.
  const char* text = R"(graph replay opset=17
input %x f32[1,3,12,12]
const @w1 f32[8,3,3,3] random(seed=1)
const @w2 f32[6,8,3,3] random(seed=2)
const @w3 f32[5,8,1,1] random(seed=3)
const @s f32[11,6,6] random(seed=4)
%c1 _ = Conv %x, @w1 pads=[1,1,1,1] act="Relu"
%p _ = MaxPool %c1 kernel_shape=[2,2] strides=[2,2]
%a _ = Conv %p, @w2 pads=[1,1,1,1]
%b _ = Conv %p, @w3
%cat _ = Concat %a, %b axis=1
%n _ = LayerNormalization %cat, @s axis=1
%y _ = Softmax %n axis=-1
return %y
)";
  const Compiled compiled = compile_on_emulator(text, "replay");
  const Model& model = compiled.model;
  const Model& reference = compiled.reference;
  for (size_t n = 0; n < model.graph().nodes.size(); ++n) {
    const bool skipped = model.memory_plan()->skip_node[n];
    const NodeKernel* k = model.kernels()[n];
    CAPTURE(model.graph().nodes[n].name);
    CHECK((skipped || (k && k->tactic().starts_with("cuda."))));
  }

  const Session session(model);
  for (int run = 0; run < 4; ++run) {
    CAPTURE(run);
    const Tensor x = random_tensor(DType::F32, {1, 3, 12, 12}, 100 + uint64_t(run));
    const auto got = session.run({{"x", x}});
    const auto want = Session(reference).run({{"x", x}});
    const Difference d = compare(got.at("y"), want.at("y"));
    INFO("rel L2 " << d.rel_l2);
    CHECK(d.rel_l2 < 1e-5);
    const TransferStats t = session.last_transfers();
    CHECK(t.graph_replay == (run >= 1));  // run 1 is ordinary, run 2 records and replays, later runs replay
    if (run >= 1) {
      CHECK(t.uploads == 1);  // x
      CHECK(t.downloads == 1);  // y
    }
  }
  // Observed runs (a tap) go node by node, and still agree.
  int tapped = 0;
  const Tensor x = random_tensor(DType::F32, {1, 3, 12, 12}, 7);
  const auto observed = session.run({{"x", x}}, nullptr, [&](const Node&, int, const Tensor&) { ++tapped; });
  CHECK(!session.last_transfers().graph_replay);
  CHECK(tapped > 0);
  CHECK(compare(observed.at("y"), Session(reference).run({{"x", x}}).at("y")).rel_l2 < 1e-5);
  cuda::use_device({});
}
