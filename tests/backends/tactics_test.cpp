// Every CPU tactic against the reference kernel of ops/ (itself checked against ONNX's
// conformance data) on seeded random inputs, over the geometries real models use: strides,
// dilations, asymmetric padding, groups, batches, a fused residual and activation, sizes that
// are not multiples of the tile. And what each tactic must refuse.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "backends/cpu/timing_cache.h"
#include "backends/cpu/tuner.h"
#include "ir_test_util.h"

using namespace nnc;
using nnc::testing::parse_typed;

namespace {

// Runs node 0 of `g` with the reference kernel and with every tactic that accepts it; returns
// the names of the tactics that ran.
std::vector<std::string> check_tactics_agree(const Graph& g, double tolerance = 1e-5, float input_scale = 1.0f) {
  const Node& node = g.nodes[0];
  const nnc::testing::NodeInputs random = nnc::testing::random_node_inputs(g, node, input_scale);
  const std::vector<const Tensor*>& inputs = random.pointers;
  const std::vector<Tensor> expected = run_node(node, inputs, g.opset);
  std::vector<std::string> ran;
  for (const cpu::Tactic& t : cpu::cpu_tactics()) {
    if (t.op != node.op || !t.rejects(g, node).empty()) continue;
    for (const int threads : {1, 2}) {
      cpu::set_thread_count(threads);
      const auto kernel = t.prepare(g, node);
      const std::vector<Tensor> got = run_node(node, inputs, g.opset, nullptr, nullptr, kernel.get());
      const Difference d = compare(got[0], expected[0]);
      INFO(t.name << " with " << threads << " threads: rel L2 " << d.rel_l2 << ", max abs " << d.max_abs);
      CHECK(d.rel_l2 < tolerance);
    }
    ran.emplace_back(t.name);
  }
  cpu::set_thread_count(0);
  return ran;
}

std::string conv_graph(const std::string& x, const std::string& w, const std::string& attrs, bool bias = true,
                       const std::string& extra_inputs = "") {
  const std::string maps = w.substr(w.find('[') + 1, w.find(',') - w.find('[') - 1);
  return "graph t opset=17\ninput %x f32" + x + "\n" + extra_inputs + "const @w f32" + w + " random(seed=3)\n" +
         (bias ? "const @b f32[" + maps + "] random(seed=4)\n" : "") + "%y _ = Conv %x, @w" + (bias ? ", @b" : "") +
         (extra_inputs.empty() ? "" : ", %r") + " " + attrs + "\nreturn %y\n";
}

}  // namespace

TEST_CASE("conv tactics agree with the reference kernel across geometries") {
  struct Geometry {
    const char* x;
    const char* w;
    const char* attrs;
    bool depthwise = false;
  };
  const Geometry cases[] = {
      {"[1,3,17,23]", "[8,3,3,3]", "pads=[1,1,1,1]"},
      {"[2,5,16,16]", "[13,5,3,3]", "pads=[1,1,1,1] strides=[2,2]"},
      {"[1,16,20,20]", "[16,16,3,3]", "pads=[2,2,2,2] dilations=[2,2]"},
      {"[1,4,9,30]", "[6,4,5,3]", "pads=[0,1,2,1] strides=[1,2]"},
      {"[1,8,12,12]", "[10,4,3,3]", "pads=[1,1,1,1] group=2"},
      {"[1,33,15,15]", "[20,33,1,1]", ""},
      {"[1,64,7,7]", "[300,64,1,1]", ""},
      {"[1,3,40,40]", "[1,3,3,3]", "pads=[1,1,1,1]"},
      {"[1,6,11,11]", "[7,6,2,2]", "auto_pad=\"SAME_UPPER\""},
      // Enough input channels that Winograd splits them into chunks (a last, shorter one too).
      {"[1,160,12,12]", "[64,160,3,3]", "pads=[1,1,1,1]"},
      {"[1,300,9,9]", "[16,300,3,3]", "pads=[1,1,1,1]"},
      // Depthwise (MobileNet's, strided and not), with a channel multiplier, dilated.
      {"[1,16,15,15]", "[16,1,3,3]", "pads=[1,1,1,1] group=16", true},
      {"[2,16,15,16]", "[16,1,3,3]", "pads=[1,1,1,1] strides=[2,2] group=16", true},
      {"[1,8,12,12]", "[16,1,5,5]", "pads=[2,2,2,2] group=8", true},
      {"[1,8,13,13]", "[8,1,3,3]", "pads=[2,2,2,2] dilations=[2,2] strides=[1,3] group=8", true},
  };
  for (const Geometry& c : cases) {
    CAPTURE(c.x);
    CAPTURE(c.w);
    CAPTURE(c.attrs);
    const std::vector<std::string> ran = check_tactics_agree(parse_typed(conv_graph(c.x, c.w, c.attrs)));
    // Depthwise convs are too small for GEMMs: the direct tactic is theirs.
    CHECK(std::find(ran.begin(), ran.end(), c.depthwise ? "conv.direct-rows" : "conv.im2col-gemm") != ran.end());
  }
  // Only 1x1 stride-1 unpadded convs may read the image as B.
  auto has = [](const std::vector<std::string>& ran, const char* name) {
    return std::find(ran.begin(), ran.end(), name) != ran.end();
  };
  CHECK(has(check_tactics_agree(parse_typed(conv_graph("[1,33,15,15]", "[20,33,1,1]", ""))), "conv.1x1-gemm"));
  const auto strided = check_tactics_agree(parse_typed(conv_graph("[1,33,15,15]", "[20,33,1,1]", "strides=[2,2]")));
  CHECK(!has(strided, "conv.1x1-gemm"));
  CHECK(has(strided, "conv.direct-rows"));
  CHECK(has(check_tactics_agree(parse_typed(conv_graph("[1,32,9,9]", "[32,1,3,3]", "pads=[1,1,1,1] group=32"))),
            "conv.direct-rows"));  // depthwise
  CHECK(has(check_tactics_agree(parse_typed(conv_graph("[1,64,40,40]", "[1,64,3,3]", "pads=[1,1,1,1]"))),
            "conv.direct-rows"));
}

TEST_CASE("conv tactics apply the fused residual and activation, and run without a bias") {
  const std::string residual = "input %r f32[1,12,14,14]\n";
  for (const char* act : {"act=\"Relu\"", "act=\"Clip\" act_params=[0.0, 6.0]", "act=\"Sigmoid\"",
                          "act=\"LeakyRelu\" act_params=[0.1]"}) {
    CAPTURE(act);
    check_tactics_agree(parse_typed(conv_graph("[1,5,14,14]", "[12,5,3,3]", std::string("pads=[1,1,1,1] ") + act,
                                               true, residual)));
    // The same residual added after the activation (residual_after_act=1), 3x3 and 1x1.
    for (const std::string w : {"[12,5,3,3]", "[12,5,1,1]"}) {
      const std::string pads = w.find("3,3") != std::string::npos ? "pads=[1,1,1,1] " : "";
      check_tactics_agree(
          parse_typed(conv_graph("[1,5,14,14]", w, pads + act + " residual_after_act=1", true, residual)));
    }
  }
  check_tactics_agree(parse_typed(conv_graph("[1,5,14,14]", "[12,5,3,3]", "pads=[1,1,1,1]", false)));
}

TEST_CASE("conv tactics refuse what they cannot run, saying why") {
  auto reasons = [](const std::string& text) {
    const Graph g = parse_typed(text);
    std::vector<std::string> out;
    for (const cpu::Tactic& t : cpu::cpu_tactics())
      if (t.op == OpKind::Conv) out.push_back(t.rejects(g, g.nodes[0]));
    return out;
  };
  // A depthwise conv: only the direct tactic takes it.
  const std::vector<std::string> depthwise = reasons(conv_graph("[1,8,10,10]", "[8,1,3,3]", "pads=[1,1,1,1] group=8"));
  CHECK(std::count(depthwise.begin(), depthwise.end(), "") == 1);
  for (const std::string& why : depthwise)
    CHECK((why.empty() || why.find("depthwise") != std::string::npos || why == "grouped"));
  const std::string runtime_weights = R"(graph t opset=17
input %x f32[1,3,8,8]
input %w f32[4,3,3,3]
%y _ = Conv %x, %w
return %y
)";
  for (const std::string& why : reasons(runtime_weights)) CHECK(why == "weights are not constant");
  for (const std::string& why : reasons(conv_graph("[1,2,4,4,4]", "[3,2,1,1,1]", "")))
    CHECK(why.find("2-D") != std::string::npos);
}

TEST_CASE("matmul and gemm tactics agree with the reference kernel") {
  const char* const graphs[] = {
      // A projection: B constant, A 3-D, fused bias and GELU.
      R"(graph t opset=17
input %x f32[2,17,40]
const @w f32[40,72] random(seed=5)
const @b f32[72] random(seed=6)
%y _ = MatMul %x, @w, @b act="Gelu"
return %y
)",
      // Attention scores: both operands computed, same batch dims.
      R"(graph t opset=17
input %q f32[2,4,16,8]
input %k f32[2,4,8,16]
%y _ = MatMul %q, %k
return %y
)",
      R"(graph t opset=17
input %a f32[9,30]
const @b f32[20,30] random(seed=7)
const @c f32[20] random(seed=8)
%y _ = Gemm %a, @b, @c transB=1 alpha=0.5 beta=2.0
return %y
)",
      R"(graph t opset=17
input %a f32[30,9]
const @b f32[30,20] random(seed=7)
const @c f32[9,20] random(seed=8)
%y _ = Gemm %a, @b, @c transA=1 act="Relu"
return %y
)",
      R"(graph t opset=17
input %a f32[5,300]
const @b f32[300,33] random(seed=9)
%y _ = Gemm %a, @b
return %y
)",
  };
  for (const char* text : graphs) {
    CAPTURE(text);
    CHECK(!check_tactics_agree(parse_typed(text)).empty());
  }
}

TEST_CASE("the tuner times the reference and every eligible tactic, and keeps the fastest that agrees") {
  const Graph g = parse_typed(conv_graph("[1,16,32,32]", "[16,16,3,3]", "pads=[1,1,1,1] act=\"Relu\""));
  const cpu::TuningResult result = cpu::tune(g, {.runs = 3});
  REQUIRE(result.nodes.size() == 1);
  const cpu::NodeTuning& t = result.nodes[0];
  CHECK(t.candidates[0].tactic == "reference");
  CHECK(t.candidates[0].median_ms > 0);
  bool chosen_listed = false;
  double fastest = 1e300;
  for (const cpu::CandidateTime& c : t.candidates) {
    if (c.median_ms >= 0) fastest = std::min(fastest, c.median_ms);
    chosen_listed = chosen_listed || c.tactic == t.chosen;
  }
  CHECK(chosen_listed);
  for (const cpu::CandidateTime& c : t.candidates)
    if (c.tactic == t.chosen) CHECK(c.median_ms == fastest);
  CHECK((t.chosen == "reference") == (result.kernels[0] == nullptr));
  CHECK(result.warnings.empty());

  const cpu::TuningResult forced = cpu::tune(g, {.runs = 1, .prefer_tactics = true});
  REQUIRE(forced.kernels[0] != nullptr);
  CHECK(forced.nodes[0].chosen != "reference");
}

TEST_CASE("resize, maxpool and elementwise tactics agree with the reference kernels") {
  const char* const graphs[] = {
      // U-Net upsampling: bilinear to an odd size given by `sizes`.
      R"(graph t opset=13
input %x f32[1,5,10,7]
const @roi f32[0] []
const @scales f32[0] []
const @sizes i64[4] [1, 5, 21, 15]
%y _ = Resize %x, @roi, @scales, @sizes mode="linear" coordinate_transformation_mode="half_pixel"
return %y
)",
      R"(graph t opset=13
input %x f32[2,3,8,8]
const @roi f32[0] []
const @scales f32[4] [1.0, 1.0, 2.5, 0.5]
%y _ = Resize %x, @roi, @scales mode="linear" coordinate_transformation_mode="align_corners"
return %y
)",
      R"(graph t opset=13
input %x f32[1,2,9,9]
const @roi f32[0] []
const @scales f32[4] [1.0, 1.0, 2.0, 3.0]
%y _ = Resize %x, @roi, @scales mode="nearest" coordinate_transformation_mode="asymmetric" nearest_mode="floor"
return %y
)",
      R"(graph t opset=13
input %x f32[1,2,9,9]
const @roi f32[0] []
const @scales f32[4] [1.0, 1.0, 1.5, 1.5]
%y _ = Resize %x, @roi, @scales mode="cubic"
return %y
)",
      R"(graph t opset=13
input %x f32[1,4,21,21]
%y _ = MaxPool %x kernel_shape=[2,2] strides=[2,2] ceil_mode=1
return %y
)",
      R"(graph t opset=13
input %x f32[2,3,10,12]
%y _ = MaxPool %x kernel_shape=[3,3] strides=[2,1] pads=[1,1,1,1] dilations=[1,2]
return %y
)",
      R"(graph t opset=13
input %a f32[1,8,33,33]
input %b f32[1,8,33,33]
%y _ = Add %a, %b
return %y
)",
      R"(graph t opset=13
input %a f32[3,1000]
const @s f32[] [0.5]
%y _ = Div %a, @s
return %y
)",
  };
  for (const char* text : graphs) {
    CAPTURE(text);
    CHECK(!check_tactics_agree(parse_typed(text)).empty());
  }
  // Standalone activations, over a size that is not a multiple of the chunks or the vectors.
  const std::pair<const char*, const char*> activations[] = {{"Relu", ""},      {"Sigmoid", ""},
                                                             {"Tanh", ""},      {"HardSwish", ""},
                                                             {"LeakyRelu", " alpha=0.2"},
                                                             {"HardSigmoid", " alpha=0.3 beta=0.4"}};
  for (const auto& [op, attrs] : activations) {
    CAPTURE(op);
    const std::string text =
        std::string("graph t opset=14\ninput %x f32[2,3,77,91]\n%y _ = ") + op + " %x" + attrs + "\nreturn %y\n";
    const std::vector<std::string> ran = check_tactics_agree(parse_typed(text));
    CHECK(std::find(ran.begin(), ran.end(), "unary.vectorised") != ran.end());
  }
}

TEST_CASE("softmax and layernorm tactics agree with the reference kernels") {
  const char* const graphs[] = {
      // Attention scores: softmax over the keys (last axis), rows longer than one vector.
      R"(graph t opset=13
input %x f32[2,4,37,301]
%y _ = Softmax %x axis=-1
return %y
)",
      R"(graph t opset=13
input %x f32[5,3,7]
%y _ = LogSoftmax %x axis=2
return %y
)",
      // Opset 11: axis=1 flattens the tail into one row (the importer marks it coerce_2d).
      R"(graph t opset=11
input %x f32[3,4,5,6]
%y _ = Softmax %x axis=1 coerce_2d=1
return %y
)",
      R"(graph t opset=17
input %x f32[2,50,257]
const @s f32[257] random(seed=5)
const @b f32[257] random(seed=6)
%y _ = LayerNormalization %x, @s, @b axis=-1 epsilon=0.00001
return %y
)",
      R"(graph t opset=17
input %x f32[3,6,10]
const @s f32[6,10] random(seed=5)
%y _ = LayerNormalization %x, @s axis=1
return %y
)",
  };
  for (const char* text : graphs) {
    CAPTURE(text);
    const std::vector<std::string> ran = check_tactics_agree(parse_typed(text));
    CHECK(std::count_if(ran.begin(), ran.end(), [](const std::string& name) {
            return name == "softmax.lanes" || name == "layernorm.lanes";
          }) == 1);
  }
  // Softmax over a middle axis (not contiguous) stays on the reference kernel.
  const Graph middle = parse_typed("graph t opset=13\ninput %x f32[2,5,3]\n%y _ = Softmax %x axis=1\nreturn %y\n");
  for (const cpu::Tactic& t : cpu::cpu_tactics())
    if (t.op == OpKind::Softmax) CHECK(t.rejects(middle, middle.nodes[0]) == "the axis is not the innermost");
}

TEST_CASE("transpose and reduce tactics agree with the reference kernels") {
  const std::pair<const char*, const char*> transposes[] = {
      {"f32[2,3,17,19]", "perm=[0,2,3,1]"},   // NCHW -> NHWC: a 2-D transpose per image
      {"f32[2,17,19,3]", "perm=[0,3,1,2]"},   // and back
      {"f32[3,5,4,8]", "perm=[0,2,1,3]"},     // a head split: rows of 8 move
      {"f32[33,47]", ""},                     // no perm: reversed
      {"i64[2,1,3,1,5,2]", "perm=[5,3,0,4,1,2]"},
      {"u8[4,1,6]", "perm=[1,0,2]"},          // only a size-1 axis moves
      {"f16[7,9,3]", "perm=[2,0,1]"},
  };
  for (const auto& [type, perm] : transposes) {
    CAPTURE(type);
    const std::string text = std::string("graph t opset=13\ninput %x ") + type + "\n%y _ = Transpose %x " + perm +
                             "\nreturn %y\n";
    const std::vector<std::string> ran = check_tactics_agree(parse_typed(text));
    CHECK(std::find(ran.begin(), ran.end(), "transpose.blocked") != ran.end());
  }
  const std::pair<const char*, const char*> reductions[] = {
      {"ReduceMean", "const @axes i64[2] [2, 3]\n"},  // global average pool
      {"ReduceSum", "const @axes i64[1] [-1]\n"},
      {"ReduceMax", ""},                             // every axis
      {"ReduceMin", "const @axes i64[2] [1, 3]\n"},  // not innermost: stays on the reference
  };
  for (const auto& [op, axes] : reductions) {
    CAPTURE(op);
    const std::string axes_input = std::string(axes).empty() ? "" : ", @axes";
    const std::string text = std::string("graph t opset=18\ninput %x f32[2,3,45,47]\n") + axes + "%y _ = " + op +
                             " %x" + axes_input + " keepdims=1\nreturn %y\n";
    const std::vector<std::string> ran = check_tactics_agree(parse_typed(text));
    const bool innermost = std::string(op) != "ReduceMin";
    CHECK((std::find(ran.begin(), ran.end(), "reduce.rows") != ran.end()) == innermost);
  }
}

TEST_CASE("the grid-sample tactic agrees with the reference kernel in every padding mode and alignment") {
  // Inputs scaled by 1.6: a fifth of the grid points fall outside [-1, 1], where the padding
  // modes differ.
  for (const char* padding : {"zeros", "border", "reflection"})
    for (const int align : {0, 1}) {
      CAPTURE(padding);
      CAPTURE(align);
      const Graph g = parse_typed(fmt::format(R"(graph t opset=16
input %x f32[2,5,13,17]
input %g f32[2,7,300,2]
%y _ = GridSample %x, %g mode="bilinear" padding_mode="{}" align_corners={}
return %y
)",
                                              padding, align));
      const std::vector<std::string> ran = check_tactics_agree(g, 1e-5, 1.6f);
      CHECK(std::find(ran.begin(), ran.end(), "grid-sample.bilinear-taps") != ran.end());
    }
}

TEST_CASE("normalisation tactics agree with the reference kernels, with and without a fused activation") {
  const char* const graphs[] = {
      // A diffusion U-Net's GroupNorm + SiLU (per-channel scale and bias, opset 18 form).
      R"(graph t opset=18
input %x f32[1,32,19,23]
const @s f32[32] random(seed=3)
const @b f32[32] random(seed=4)
%y _ = GroupNormalization %x, @s, @b num_groups=8 act="Silu"
return %y
)",
      // Per-group scale and bias, batch 2, a long lane (5 x 4100 elements: several chunks).
      R"(graph t opset=18
input %x f32[2,10,41,100]
const @s f32[2] random(seed=5)
const @b f32[2] random(seed=6)
%y _ = GroupNormalization %x, @s, @b num_groups=2 epsilon=0.001
return %y
)",
      R"(graph t opset=13
input %x f32[2,6,7,9]
const @s f32[6] random(seed=7)
const @b f32[6] random(seed=8)
%y _ = InstanceNormalization %x, @s, @b act="Sigmoid"
return %y
)",
  };
  for (const char* text : graphs) {
    CAPTURE(text);
    const std::vector<std::string> ran = check_tactics_agree(parse_typed(text));
    CHECK(std::find(ran.begin(), ran.end(), "norm.fused-lanes") != ran.end());
  }
}

TEST_CASE("resize and elementwise tactics refuse what they cannot run") {
  const Graph channels = parse_typed(R"(graph t opset=13
input %x f32[1,4,6,6]
const @roi f32[0] []
const @scales f32[4] [1.0, 2.0, 1.0, 1.0]
%y _ = Resize %x, @roi, @scales mode="nearest"
return %y
)");
  const Graph broadcast = parse_typed(R"(graph t opset=13
input %a f32[4,6]
input %b f32[6]
%y _ = Mul %a, %b
return %y
)");
  for (const cpu::Tactic& t : cpu::cpu_tactics()) {
    if (t.op == OpKind::Resize) CHECK(t.rejects(channels, channels.nodes[0]) == "resizes N or C");
    if (t.op == OpKind::Mul) CHECK(t.rejects(broadcast, broadcast.nodes[0]).find("broadcast") != std::string::npos);
  }
}

TEST_CASE("the tuner leaves nodes with symbolic shapes on the reference kernel") {
  const Graph g = parse_typed(R"(graph t opset=17
input %x f32[N,3,8,8]
const @w f32[4,3,3,3] random(seed=1)
%y _ = Conv %x, @w pads=[1,1,1,1]
return %y
)");
  const cpu::TuningResult result = cpu::tune(g);
  REQUIRE(result.nodes.size() == 1);
  CHECK(result.nodes[0].chosen == "reference");
  CHECK(result.kernels[0] == nullptr);
}

TEST_CASE("a timing cache file: written by the first tuning, reused by the second, damaged lines skipped") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / fmt::format("nnc_timing_cache_{}.txt", ::getpid());
  fs::remove(path);
  const Graph g = parse_typed(R"(graph t opset=17
input %x f32[1,8,24,24]
const @w f32[8,8,3,3] random(seed=1)
const @w2 f32[8,8,3,3] random(seed=2)
%a _ = Conv %x, @w pads=[1,1,1,1] act="Relu"
%b _ = Conv %a, @w2 pads=[1,1,1,1] act="Relu"
%y _ = MaxPool %b kernel_shape=[2,2] strides=[2,2]
return %y
)");
  cpu::TuneOptions options{.runs = 2};
  options.cache_file = path;
  const cpu::TuningResult first = cpu::tune(g, options);
  CHECK(first.cache_hits == 1);  // the second conv has the first one's signature
  REQUIRE(fs::exists(path));
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  CHECK(header == "nnc-timing-cache 1");

  const cpu::TuningResult second = cpu::tune(g, options);
  CHECK(second.cache_hits == second.nodes.size());
  for (size_t i = 0; i < second.nodes.size(); ++i) {
    CHECK(second.nodes[i].from_cache);
    CHECK(second.nodes[i].chosen == first.nodes[i].chosen);
    CHECK((second.kernels[second.nodes[i].node] != nullptr) == (second.nodes[i].chosen != "reference"));
  }

  // A damaged line is skipped with a warning; its node is tuned again and the file repaired.
  {
    std::ofstream out(path, std::ios::app);
    out << "garbage without tabs\n" << "Conv(x)\tconv.im2col-gemm\tnot-a-timing\n";
  }
  const cpu::TuningResult third = cpu::tune(g, options);
  CHECK(third.warnings.size() == 2);
  CHECK(third.cache_hits == third.nodes.size());
  CHECK(cpu::TimingCache::load(path).warnings().empty());

  // An entry another nnc version wrote: kept in the file, never used, and said so.
  {
    std::ofstream out(path, std::ios::app);
    out << "Conv(f32[1,8,24,24], const f32[8,8,3,3]) pads=[1,1,1,1] on Some CPU avx2 x2 nnc 0.0.1\treference\t"
           "reference=1.0000\n";
  }
  const cpu::TimingCache stale = cpu::TimingCache::load(path);
  REQUIRE(stale.warnings().size() == 1);
  CHECK(stale.warnings()[0].find("1 entries were written by another nnc version") != std::string::npos);
  CHECK(cpu::tune(g, options).cache_hits == third.nodes.size());

  // Not a cache at all: a warning, and everything is tuned afresh.
  {
    std::ofstream out(path, std::ios::trunc);
    out << "PK\x03\x04 zip file";
  }
  const cpu::TuningResult fourth = cpu::tune(g, options);
  REQUIRE(fourth.warnings.size() == 1);
  CHECK(fourth.warnings[0].find("not an nnc timing cache") != std::string::npos);
  CHECK(fourth.cache_hits == 1);
  fs::remove(path);
}
