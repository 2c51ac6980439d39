// Every CUDA tactic against the reference kernel of ops/, run on the emulator: the kernels'
// own source and launch geometry (backends/cuda/launchers.cuh), on shapes that are not multiples
// of the tiles, with the fused epilogues, broadcasts, padding and sampling modes models use.
// f32 tactics must agree within 1e-5 relative L2, f16 Tensor-Core ones within 2e-3, the INT8
// one byte for byte. On a machine with a GPU every check runs natively as well.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>
#include <set>

#include "backends/cuda/tactics.h"
#include "ir_test_util.h"
#include "ops/shape_inference.h"

using namespace nnc;
using nnc::testing::random_bytes;
using nnc::testing::parse_typed;

namespace {

// The devices the tests run on: always the emulator, and the GPU too when there is one (the same
// kernels natively; the first test says which).
std::vector<std::shared_ptr<cuda::Device>> test_devices() {
  static const std::vector<std::shared_ptr<cuda::Device>> devices = [] {
    std::vector<std::shared_ptr<cuda::Device>> d{cuda::emulated_device()};
    std::string why;
    if (auto gpu = cuda::native_device(&why)) d.push_back(gpu);
    else MESSAGE("no GPU (" << why << "): the CUDA kernels run on the emulator only; native runs skipped");
    return d;
  }();
  return devices;
}

struct DeviceScope {
  explicit DeviceScope(std::shared_ptr<cuda::Device> d) { cuda::use_device({std::move(d), true}); }
  ~DeviceScope() { cuda::use_device({}); }
};

// Runs node 0 of `g` with the reference kernel and with every CUDA tactic that accepts it;
// returns the names of those that ran. `input_scale` scales the random f32 inputs.
std::vector<std::string> check_cuda_tactics(const Graph& g, float input_scale = 1.0f) {
  const Node& node = g.nodes[0];
  const nnc::testing::NodeInputs random = nnc::testing::random_node_inputs(g, node, input_scale);
  const std::vector<const Tensor*>& inputs = random.pointers;
  const std::vector<Tensor> expected = run_node(node, inputs, g.opset);
  // A check on constant or saturated outputs would prove little: the case must spread its values.
  std::set<double> distinct;
  for (int64_t i = 0; i < expected[0].numel() && distinct.size() < 8; ++i) distinct.insert(expected[0].get_double(i));
  CHECK(distinct.size() >= std::min<size_t>(8, size_t(expected[0].numel())));
  std::vector<std::string> ran;
  for (const std::shared_ptr<cuda::Device>& device : test_devices()) {
    DeviceScope scope(device);
    for (const cpu::Tactic& t : cuda::cuda_tactics()) {
      if (t.op != node.op) continue;
      if (const std::string why = t.rejects(g, node); !why.empty()) {
        MESSAGE(t.name << " refused: " << why);
        continue;
      }
      const auto kernel = t.prepare(g, node);
      const std::vector<Tensor> got = run_node(node, inputs, g.opset, nullptr, nullptr, kernel.get());
      REQUIRE(got[0].dims() == expected[0].dims());
      const Difference d = compare(got[0], expected[0]);
      const bool integer = got[0].dtype() == DType::U8 || got[0].dtype() == DType::I8;
      const double tolerance = integer ? 0.0 : t.tolerance > 0 ? t.tolerance : 1e-5;
      INFO(t.name << " on " << device->description() << ": rel L2 " << d.rel_l2 << ", max abs " << d.max_abs);
      if (integer) CHECK(d.max_abs == 0);
      else CHECK(d.rel_l2 <= tolerance);
      if (device->emulated()) ran.emplace_back(t.name);
    }
  }
  return ran;
}

bool has(const std::vector<std::string>& ran, std::string_view name) {
  return std::find(ran.begin(), ran.end(), name) != ran.end();
}

std::string conv_graph(const std::string& x, const std::string& w, const std::string& attrs, bool bias = true,
                       const std::string& residual = "") {
  const std::string maps = w.substr(w.find('[') + 1, w.find(',') - w.find('[') - 1);
  return "graph t opset=17\ninput %x f32" + x + "\n" + (residual.empty() ? "" : "input %r f32" + residual + "\n") +
         "const @w f32" + w + " random(seed=3)\n" + (bias ? "const @b f32[" + maps + "] random(seed=4)\n" : "") +
         "%y _ = Conv %x, @w" + (bias ? ", @b" : ", _") + (residual.empty() ? "" : ", %r") + " " + attrs + "\nreturn %y\n";
}

}  // namespace

TEST_CASE("CUDA conv tactics (CUDA cores and f16 Tensor Cores) agree with the reference conv") {
  const struct {
    const char* x;
    const char* w;
    const char* attrs;
  } cases[] = {
      {"[1,3,17,23]", "[8,3,3,3]", "pads=[1,1,1,1]"},
      {"[2,5,16,16]", "[13,5,3,3]", "pads=[1,1,1,1] strides=[2,2]"},
      {"[1,16,20,20]", "[70,16,3,3]", "pads=[2,2,2,2] dilations=[2,2]"},  // M over one 64-row tile
      {"[1,8,9,9]", "[8,1,3,3]", "pads=[1,1,1,1] group=8"},                // depthwise
      {"[1,6,7,11]", "[4,3,1,1]", "group=2"},                              // grouped 1x1
      {"[1,4,12,10]", "[6,4,5,3]", "pads=[2,1,0,1]"},                      // asymmetric
      {"[1,33,8,9]", "[20,33,1,1]", "strides=[2,2]"},
  };
  for (const auto& c : cases) {
    const std::string geometry = std::string(c.x) + " " + c.w + " " + c.attrs;
    CAPTURE(geometry);
    const auto ran = check_cuda_tactics(parse_typed(conv_graph(c.x, c.w, c.attrs)));
    CHECK(has(ran, "cuda.conv.simt-implicit-gemm"));
    CHECK(has(ran, "cuda.conv.tc-f16-implicit-gemm"));
  }
}

TEST_CASE("CUDA conv tactics apply the fused residual and activation") {
  for (const std::string act : {"act=\"Relu\"", "act=\"Clip\" act_params=[0.0, 0.5]", "act=\"Sigmoid\"",
                                "act=\"LeakyRelu\" act_params=[0.1]", "act=\"HardSwish\"", "act=\"Gelu\""}) {
    CAPTURE(act);
    for (const char* after : {"", " residual_after_act=1"}) {
      const auto ran = check_cuda_tactics(
          parse_typed(conv_graph("[1,5,14,14]", "[12,5,3,3]", "pads=[1,1,1,1] " + act + after, true, "[1,12,14,14]")));
      CHECK(ran.size() == 2);
    }
  }
  CHECK(check_cuda_tactics(parse_typed(conv_graph("[1,5,14,14]", "[12,5,3,3]", "pads=[1,1,1,1]", false))).size() == 2);
}

TEST_CASE("f16 tactics are candidates only when f16 is allowed") {
  const Graph g = parse_typed(conv_graph("[1,3,8,8]", "[4,3,3,3]", "pads=[1,1,1,1]"));
  cuda::use_device({cuda::emulated_device(), false});  // f16 not allowed
  for (const cpu::Tactic& t : cuda::cuda_tactics())
    if (t.op == OpKind::Conv) CHECK((t.rejects(g, g.nodes[0]) == "f16 not allowed (--fp16)") == (t.tolerance > 0));
  cuda::use_device({});
  for (const cpu::Tactic& t : cuda::cuda_tactics())
    if (t.op == OpKind::Conv) CHECK(t.rejects(g, g.nodes[0]) == "no CUDA device in use (--device cuda)");
}

TEST_CASE("CUDA MatMul and Gemm tactics agree with the reference, batched and broadcast") {
  const char* graphs[] = {
      "graph t opset=17\ninput %a f32[70,33]\ninput %b f32[33,9]\n%y _ = MatMul %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[2,3,17,20]\ninput %b f32[3,20,66]\n%y _ = MatMul %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[4,1,5,8]\ninput %b f32[1,3,8,7]\n%y _ = MatMul %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[3,10,24]\nconst @w f32[24,40] random(seed=2)\nconst @bias f32[40] random(seed=3)\n"
      "%y _ = MatMul %a, @w, @bias act=\"Gelu\"\nreturn %y\n",
      "graph t opset=17\ninput %a f32[9,12]\ninput %b f32[12,5]\ninput %c f32[5]\n%y _ = Gemm %a, %b, %c alpha=0.5 beta=2.0\nreturn %y\n",
      "graph t opset=17\ninput %a f32[12,9]\ninput %b f32[5,12]\ninput %c f32[9,1]\n%y _ = Gemm %a, %b, %c transA=1 transB=1\nreturn %y\n",
      "graph t opset=17\ninput %a f32[9,12]\nconst @w f32[7,12] random(seed=1)\nconst @c f32[9,7] random(seed=2)\n"
      "%y _ = Gemm %a, @w, @c transB=1 act=\"Relu\"\nreturn %y\n",
  };
  for (const std::string text : graphs) {
    CAPTURE(text);
    CHECK(check_cuda_tactics(parse_typed(text)).size() == 2);
  }
}

TEST_CASE("CUDA row, pooling, resize and sampling tactics agree with the reference") {
  const char* graphs[] = {
      "graph t opset=17\ninput %x f32[3,7,45]\n%y _ = Softmax %x axis=-1\nreturn %y\n",
      "graph t opset=17\ninput %x f32[5,130]\n%y _ = LogSoftmax %x\nreturn %y\n",
      "graph t opset=11\ninput %x f32[2,3,4,5]\n%y _ = Softmax %x axis=1 coerce_2d=1\nreturn %y\n",  // opset 11 (the importer adds coerce_2d)
      "graph t opset=17\ninput %x f32[2,9,70]\ninput %s f32[70]\ninput %b f32[70]\n"
      "%y _ = LayerNormalization %x, %s, %b epsilon=0.001\nreturn %y\n",
      "graph t opset=17\ninput %x f32[2,3,6,7]\ninput %s f32[6,7]\n%y _ = LayerNormalization %x, %s axis=2\nreturn %y\n",
      "graph t opset=18\ninput %x f32[2,6,5,7]\ninput %s f32[6]\ninput %b f32[6]\n"
      "%y _ = GroupNormalization %x, %s, %b num_groups=3 epsilon=0.01\nreturn %y\n",
      "graph t opset=18\ninput %x f32[1,8,33]\ninput %s f32[2]\ninput %b f32[2]\n"
      "%y _ = GroupNormalization %x, %s, %b num_groups=2 act=\"Silu\"\nreturn %y\n",  // per-group params, fused act
      "graph t opset=17\ninput %x f32[2,3,9,10]\ninput %s f32[3]\ninput %b f32[3]\n"
      "%y _ = InstanceNormalization %x, %s, %b\nreturn %y\n",
      "graph t opset=17\ninput %x f32[1,3,13,11]\n%y _ = MaxPool %x kernel_shape=[3,3] strides=[2,2] pads=[1,1,1,1]\nreturn %y\n",
      "graph t opset=17\ninput %x f32[1,2,9,9]\n%y _ = MaxPool %x kernel_shape=[2,2] strides=[2,2] ceil_mode=1\nreturn %y\n",
      "graph t opset=17\ninput %x f32[2,3,10,9]\n%y _ = AveragePool %x kernel_shape=[3,3] pads=[1,1,1,1] count_include_pad=1\nreturn %y\n",
      "graph t opset=17\ninput %x f32[2,3,10,9]\n%y _ = AveragePool %x kernel_shape=[3,2] strides=[2,1] pads=[1,0,1,1]\nreturn %y\n",
      // A window far wider than the input (found by tests/fuzz in the reference kernel): only the
      // taps inside are visited, the padded count is still the whole padded window's.
      "graph t opset=17\ninput %x f32[1,3,8,8]\n%y _ = AveragePool %x kernel_shape=[2,4000] auto_pad=\"SAME_LOWER\" count_include_pad=1\nreturn %y\n",
      "graph t opset=17\ninput %x f32[1,3,8,8]\n%y _ = MaxPool %x kernel_shape=[3,4000] pads=[1,1,1,3999] strides=[1,3]\nreturn %y\n",
      "graph t opset=17\ninput %x f32[1,3,5,7]\nconst @s f32[4] [1,1,2,2]\n"
      "%y _ = Resize %x, _, @s mode=\"linear\" coordinate_transformation_mode=\"half_pixel\"\nreturn %y\n",
      "graph t opset=17\ninput %x f32[1,2,6,6]\nconst @s f32[4] [1,1,1.5,0.5]\n"
      "%y _ = Resize %x, _, @s mode=\"cubic\" coordinate_transformation_mode=\"align_corners\"\nreturn %y\n",
      "graph t opset=17\ninput %x f32[1,2,5,4]\nconst @z i64[4] [1,2,11,9]\n"
      "%y _ = Resize %x, _, _, @z mode=\"nearest\" nearest_mode=\"round_prefer_ceil\" coordinate_transformation_mode=\"asymmetric\"\nreturn %y\n",
  };
  for (const std::string text : graphs) {
    CAPTURE(text);
    CHECK(check_cuda_tactics(parse_typed(text)).size() == 1);
  }
}

TEST_CASE("CUDA GridSample covers bilinear and nearest with every padding mode, points outside included") {
  for (const char* mode : {"bilinear", "nearest"})
    for (const char* padding : {"zeros", "border", "reflection"})
      for (const char* align : {"0", "1"}) {
        const std::string text = std::string("graph t opset=17\ninput %x f32[2,3,7,9]\ninput %g f32[2,5,6,2]\n") +
                                 "%y _ = GridSample %x, %g mode=\"" + mode + "\" padding_mode=\"" + padding +
                                 "\" align_corners=" + align + "\nreturn %y\n";
        CAPTURE(text);
        CHECK(check_cuda_tactics(parse_typed(text), 1.4f).size() == 1);  // grid in [-1.4, 1.4): some points outside
      }
}

TEST_CASE("CUDA elementwise tactics broadcast like NumPy and apply fused activations") {
  const char* graphs[] = {
      "graph t opset=17\ninput %a f32[2,3,4,5]\ninput %b f32[3,1,5]\n%y _ = Add %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[4,1]\ninput %b f32[1,6]\n%y _ = Sub %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[7,9]\nconst @b f32[9] random(seed=1)\n%y _ = Mul %a, @b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[300]\ninput %b f32[]\n%y _ = Div %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %a f32[5,6]\ninput %b f32[5,6]\n%y _ = Max %a, %b\nreturn %y\n",
      "graph t opset=17\ninput %x f32[3,100]\n%y _ = Sigmoid %x\nreturn %y\n",
      "graph t opset=17\ninput %x f32[3,100]\n%y _ = LeakyRelu %x alpha=0.2\nreturn %y\n",
      "graph t opset=17\ninput %x f32[3,100]\n%y _ = HardSigmoid %x alpha=0.3 beta=0.4\nreturn %y\n",
      "graph t opset=17\ninput %x f32[257]\n%y _ = Erf %x\nreturn %y\n",
      "graph t opset=17\ninput %x f32[257]\n%y _ = Tanh %x\nreturn %y\n",
  };
  for (const std::string text : graphs) {
    CAPTURE(text);
    CHECK(check_cuda_tactics(parse_typed(text)).size() == 1);
  }
}

// --- INT8 ---------------------------------------------------------------------------------------
namespace {

Tensor scalar(DType t, double v) {
  Tensor s(t, Dims{});
  if (t == DType::F32) s.data<float>()[0] = float(v);
  else if (t == DType::U8) s.data<uint8_t>()[0] = uint8_t(v);
  else s.data<int8_t>()[0] = int8_t(v);
  return s;
}

struct QCase {
  Dims x;
  int64_t maps, kernel = 3, stride = 1, pad = 1, group = 1;
  DType x_type = DType::U8, y_type = DType::U8;
  std::string act;
  bool residual = false, after = false, fixed = false;
};

Graph qconv_graph(const QCase& c, std::mt19937& rng) {
  Graph g;
  g.opset = 17;
  g.add_input("x", TensorType{c.x_type, Shape(c.x)});
  const int64_t depth = c.x[1] / c.group;
  Tensor w = random_bytes(DType::I8, Dims{c.maps, depth, c.kernel, c.kernel}, rng);
  Tensor w_scale(DType::F32, Dims{c.maps});
  std::uniform_real_distribution<float> unit(0.5f, 1.5f);
  for (int64_t m = 0; m < c.maps; ++m) w_scale.data<float>()[m] = 0.004f * unit(rng);
  Tensor bias(DType::I32, Dims{c.maps});
  std::uniform_int_distribution<int> b(-3000, 3000);
  for (int64_t m = 0; m < c.maps; ++m) bias.data<int32_t>()[m] = b(rng);
  const float x_scale = 0.02f, y_scale = float(x_scale * 0.004 * 70 * 70 * std::sqrt(double(depth * c.kernel * c.kernel)) / 50);
  std::vector<ValueId> in = {g.inputs[0],
                             g.add_const("x_scale", scalar(DType::F32, x_scale)),
                             g.add_const("x_zero", scalar(c.x_type, c.x_type == DType::U8 ? 113 : -7)),
                             g.add_const("w", w),
                             g.add_const("w_scale", w_scale),
                             g.add_const("w_zero", Tensor(DType::I8, Dims{c.maps})),
                             g.add_const("y_scale", scalar(DType::F32, y_scale)),
                             g.add_const("y_zero", scalar(c.y_type, c.y_type == DType::U8 ? 96 : 5)),
                             g.add_const("bias", bias)};
  std::vector<Attribute> attrs = {{"kernel_shape", std::vector<int64_t>{c.kernel, c.kernel}},
                                  {"strides", std::vector<int64_t>{c.stride, c.stride}},
                                  {"pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad}},
                                  {"group", c.group}};
  if (!c.act.empty()) attrs.push_back({"act", c.act});
  if (c.act == "Clip") attrs.push_back({"act_params", std::vector<float>{-0.5f, 1.5f}});
  if (c.after) attrs.push_back({"residual_after_act", int64_t{1}});
  if (c.fixed) attrs.push_back({"requantize", std::string("fixed")});
  const int64_t oh = (c.x[2] + 2 * c.pad - c.kernel) / c.stride + 1, ow = (c.x[3] + 2 * c.pad - c.kernel) / c.stride + 1;
  if (c.residual) {
    in.push_back(g.add_input("r", TensorType{c.y_type, Shape(Dims{c.x[0], c.maps, oh, ow})}));
    in.push_back(g.add_const("r_scale", scalar(DType::F32, y_scale * 0.7f)));
    in.push_back(g.add_const("r_zero", scalar(c.y_type, c.y_type == DType::U8 ? 20 : -3)));
  }
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::QLinearConv, "conv", in, {y}, attrs);
  g.outputs = {y};
  infer_types(g);
  return g;
}

}  // namespace

TEST_CASE("the INT8 Tensor-Core conv computes the reference kernel's bytes") {
  std::mt19937 rng(3);
  const QCase cases[] = {
      {.x = {1, 16, 12, 13}, .maps = 16},
      {.x = {1, 3, 11, 9}, .maps = 70, .act = "Relu"},  // K = 27 (< 32), M over a tile
      {.x = {2, 8, 9, 10}, .maps = 13, .stride = 2},
      {.x = {1, 40, 6, 7}, .maps = 12, .kernel = 1, .pad = 0},
      {.x = {1, 8, 7, 7}, .maps = 8, .group = 4},
      {.x = {1, 16, 8, 8}, .maps = 16, .x_type = DType::I8, .y_type = DType::I8, .act = "Clip"},
      {.x = {1, 16, 8, 8}, .maps = 10, .x_type = DType::I8, .y_type = DType::U8},
      {.x = {1, 12, 9, 9}, .maps = 12, .act = "Relu", .residual = true, .after = true},
      {.x = {1, 12, 9, 9}, .maps = 12, .y_type = DType::I8, .act = "Relu", .residual = true, .fixed = true},
      {.x = {1, 12, 9, 9}, .maps = 20, .fixed = true},
  };
  for (const QCase& c : cases) {
    CAPTURE(c.x[1]);
    CAPTURE(c.maps);
    const Graph g = qconv_graph(c, rng);
    const auto ran = check_cuda_tactics(g);
    CHECK(has(ran, "cuda.qconv.tc-int8-implicit-gemm"));
  }
}

TEST_CASE("the INT8 Tensor-Core QLinearMatMul computes the reference kernel's bytes") {
  std::mt19937 rng(8);
  struct Case {
    Dims a;
    int64_t columns;
    DType a_type, y_type;
    bool per_column;
  };
  const Case cases[] = {{{37, 50}, 70, DType::U8, DType::U8, true},
                        {{2, 5, 33}, 9, DType::I8, DType::I8, false},
                        {{16, 64}, 16, DType::U8, DType::I8, true},
                        {{3, 7}, 5, DType::I8, DType::U8, true}};
  for (const Case& c : cases) {
    CAPTURE(c.columns);
    Graph g;
    g.opset = 17;
    g.add_input("a", TensorType{c.a_type, Shape(c.a)});
    const int64_t depth = c.a.back();
    Tensor b_scale(DType::F32, Dims{c.per_column ? c.columns : 1});
    std::uniform_real_distribution<float> unit(0.5f, 1.5f);
    for (int64_t i = 0; i < b_scale.numel(); ++i) b_scale.data<float>()[i] = 0.004f * unit(rng);
    const float a_scale = 0.02f, y_scale = float(a_scale * 0.004 * 70 * 70 * std::sqrt(double(depth)) / 50);
    const std::vector<ValueId> in = {g.inputs[0],
                                     g.add_const("a_scale", scalar(DType::F32, a_scale)),
                                     g.add_const("a_zero", scalar(c.a_type, c.a_type == DType::U8 ? 120 : -4)),
                                     g.add_const("b", random_bytes(DType::I8, Dims{depth, c.columns}, rng)),
                                     g.add_const("b_scale", b_scale),
                                     g.add_const("b_zero", Tensor(DType::I8, Dims{c.per_column ? c.columns : 1})),
                                     g.add_const("y_scale", scalar(DType::F32, y_scale)),
                                     g.add_const("y_zero", scalar(c.y_type, c.y_type == DType::U8 ? 100 : 3))};
    const ValueId y = g.add_value("y");
    g.add_node(OpKind::QLinearMatMul, "mm", in, {y}, {});
    g.outputs = {y};
    infer_types(g);
    CHECK(has(check_cuda_tactics(g), "cuda.qmatmul.tc-int8-gemm"));
  }
}

TEST_CASE("CUDA MSDeformAttn and DeformConv agree with the reference, sampling points outside included") {
  const char* graphs[] = {
      // Three levels of odd sizes (3x4, 2x3, 1x1: S = 19), locations in [-1.5, 1.5): many outside.
      "graph t opset=16\ninput %value f32[2,19,2,5]\nconst @shapes i64[3,2] [3, 4, 2, 3, 1, 1]\n"
      "const @starts i64[3] [0, 12, 18]\ninput %locations f32[2,7,2,3,3,2]\ninput %weights f32[2,7,2,3,3]\n"
      "%out f32[2,7,10] = MSDeformAttn %value, @shapes, @starts, %locations, %weights\nreturn %out\n",
      "graph t opset=16\ninput %value f32[1,20,3,4]\nconst @shapes i64[2,2] [4, 4, 2, 2]\nconst @starts i64[2] [0, 16]\n"
      "input %locations f32[1,5,3,2,4,2]\ninput %weights f32[1,5,3,2,4]\n"
      "%out f32[1,5,3,4] = MSDeformAttn %value, @shapes, @starts, %locations, %weights split_heads=1\nreturn %out\n",
      // Modulated, two groups, three offset groups, offsets up to ±1.5 pixels (some taps outside).
      "graph t opset=19\ninput %x f32[2,6,7,9]\nconst @w f32[8,3,3,3] random(seed=3)\ninput %offset f32[2,54,7,9]\n"
      "const @b f32[8] random(seed=4)\ninput %mask f32[2,27,7,9]\n"
      "%y f32[2,8,7,9] = DeformConv %x, @w, %offset, @b, %mask pads=[1,1,1,1] group=2 offset_group=3\nreturn %y\n",
      // Strided and dilated, no bias, no mask.
      "graph t opset=19\ninput %x f32[1,4,11,10]\nconst @w f32[5,4,3,3] random(seed=5)\ninput %offset f32[1,18,5,4]\n"
      "%y f32[1,5,5,4] = DeformConv %x, @w, %offset strides=[2,2] dilations=[2,2] pads=[1,1,1,1]\nreturn %y\n",
  };
  for (const std::string text : graphs) {
    CAPTURE(text);
    const auto ran = check_cuda_tactics(parse_typed(text), 1.5f);
    CHECK(!ran.empty());
    if (text.find("DeformConv") != std::string::npos) CHECK(ran.size() == 2);  // CUDA cores and f16 Tensor Cores
  }
}
