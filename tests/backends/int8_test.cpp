// The INT8 tactics against the reference kernels of ops/ (QLinearConv with nnc's epilogue,
// QuantizeLinear, DequantizeLinear, MaxPool on bytes): the integers must be identical, byte for
// byte, over the geometries and epilogues real models use. ctest runs this binary again with
// NNC_ISA=avx2 and =portable, which exercises the portable micro-kernel and requantization.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ir_test_util.h"
#include "ops/shape_inference.h"

using namespace nnc;
using nnc::testing::random_bytes;
using nnc::testing::scalar_byte;
using nnc::testing::scalar_f32;

namespace {

struct QConvCase {
  Dims x;
  int64_t maps;
  int64_t kernel = 3, stride = 1, dilation = 1, pad = 1;
  DType x_type = DType::U8, y_type = DType::U8;
  bool residual = false;
  DType r_type = DType::U8;
  std::string act;  // "", "Relu", "Clip"
  bool after = false;
  bool fixed = false;
  int64_t group = 1;
};

// A QLinearConv with constant weights and parameters and inputs %x (and %r).
Graph qconv_graph(const QConvCase& c, std::mt19937& rng) {
  Graph g;
  const int64_t channels = c.x[1];
  g.add_input("x", TensorType{c.x_type, Shape(c.x)});
  std::uniform_real_distribution<float> unit(0.5f, 1.5f);
  Tensor w = random_bytes(DType::I8, Dims{c.maps, channels / c.group, c.kernel, c.kernel}, rng);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = std::max<int8_t>(w.data<int8_t>()[i], -127);
  Tensor w_scale(DType::F32, Dims{c.maps});
  for (int64_t m = 0; m < c.maps; ++m) w_scale.data<float>()[m] = 0.004f * unit(rng);
  Tensor bias(DType::I32, Dims{c.maps});
  std::uniform_int_distribution<int> b(-3000, 3000);
  for (int64_t m = 0; m < c.maps; ++m) bias.data<int32_t>()[m] = b(rng);
  // Outputs spread over the byte range: |acc| is about 70 · 70 · sqrt(K) in units of x·w scales.
  const double depth = double(channels / c.group * c.kernel * c.kernel);
  const float x_scale = 0.02f, y_scale = float(x_scale * 0.004 * 70 * 70 * std::sqrt(depth) / 50);
  std::vector<ValueId> in = {g.inputs[0],
                             g.add_const("x_scale", scalar_f32(x_scale)),
                             g.add_const("x_zero", scalar_byte(c.x_type, c.x_type == DType::U8 ? 113 : -7)),
                             g.add_const("w", w),
                             g.add_const("w_scale", w_scale),
                             g.add_const("w_zero", Tensor(DType::I8, Dims{c.maps})),
                             g.add_const("y_scale", scalar_f32(y_scale)),
                             g.add_const("y_zero", scalar_byte(c.y_type, c.y_type == DType::U8 ? 96 : 5)),
                             g.add_const("bias", bias)};
  std::vector<Attribute> attrs = {{"kernel_shape", std::vector<int64_t>{c.kernel, c.kernel}},
                                  {"strides", std::vector<int64_t>{c.stride, c.stride}},
                                  {"dilations", std::vector<int64_t>{c.dilation, c.dilation}},
                                  {"pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad}},
                                  {"group", c.group}};
  if (!c.act.empty()) attrs.push_back({"act", c.act});
  if (c.act == "Clip") attrs.push_back({"act_params", std::vector<float>{-0.5f, 1.5f}});
  if (c.after) attrs.push_back({"residual_after_act", int64_t{1}});
  if (c.fixed) attrs.push_back({"requantize", std::string("fixed")});
  const int64_t out_h = (c.x[2] + 2 * c.pad - c.dilation * (c.kernel - 1) - 1) / c.stride + 1;
  const int64_t out_w = (c.x[3] + 2 * c.pad - c.dilation * (c.kernel - 1) - 1) / c.stride + 1;
  if (c.residual) {
    in.push_back(g.add_input("r", TensorType{c.r_type, Shape(Dims{c.x[0], c.maps, out_h, out_w})}));
    in.push_back(g.add_const("r_scale", scalar_f32(y_scale * 0.7f)));
    in.push_back(g.add_const("r_zero", scalar_byte(c.r_type, c.r_type == DType::U8 ? 20 : -3)));
  }
  const ValueId y = g.add_value("y");
  g.add_node(OpKind::QLinearConv, "conv", in, {y}, attrs);
  g.outputs = {y};
  infer_types(g);
  return g;
}

// Runs node 0 with the reference kernel and with `tactic` on the same inputs (1 and 2 threads)
// and checks the outputs are the same bytes (or, with `max_step` 1, at most one step apart where
// the reference's double arithmetic rounds a tie the other way; then on few elements). Returns
// whether the tactic accepted the node.
bool tactic_matches_reference(const Graph& g, std::string_view tactic, std::mt19937& rng, int max_step = 0) {
  const Node& node = g.nodes[0];
  std::vector<Tensor> owned;
  owned.reserve(node.inputs.size());
  std::vector<const Tensor*> inputs;
  for (ValueId v : node.inputs) {
    if (v == kNoValue) {
      inputs.push_back(nullptr);
    } else if (const Tensor* t = g.const_data(v)) {
      inputs.push_back(t);
    } else {
      const TensorType& type = g.type(v);
      if (type.dtype == DType::F32) {
        owned.push_back(random_tensor(DType::F32, type.shape.concrete(), 7));
        for (int64_t i = 0; i < owned.back().numel(); ++i) owned.back().data<float>()[i] *= 3.0f;
      } else {
        owned.push_back(random_bytes(type.dtype, type.shape.concrete(), rng));
      }
      inputs.push_back(&owned.back());
    }
  }
  const std::vector<Tensor> expected = run_node(node, inputs, g.opset);
  // A check on saturated or constant outputs would prove little: the case must spread its bytes.
  std::set<double> distinct;
  for (int64_t i = 0; i < expected[0].numel() && distinct.size() < 20; ++i) distinct.insert(expected[0].get_double(i));
  CHECK(distinct.size() >= 20);
  for (const cpu::Tactic& t : cpu::cpu_tactics()) {
    if (t.name != tactic) continue;
    const std::string why = t.rejects(g, node);
    if (!why.empty()) {
      MESSAGE(tactic << " refused: " << why);
      return false;
    }
    for (int threads : {1, 2}) {
      cpu::set_thread_count(threads);
      const auto kernel = t.prepare(g, node);
      const std::vector<Tensor> got = run_node(node, inputs, g.opset, nullptr, nullptr, kernel.get());
      REQUIRE(got[0].dtype() == expected[0].dtype());
      REQUIRE(got[0].dims() == expected[0].dims());
      int64_t differ = 0;
      double worst = 0;
      for (int64_t i = 0; i < got[0].numel(); ++i) {
        const double d = std::fabs(got[0].get_double(i) - expected[0].get_double(i));
        differ += d != 0;
        worst = std::max(worst, d);
      }
      INFO(tactic << " with " << threads << " threads: " << differ << " elements differ, by up to " << worst);
      CHECK(worst <= max_step);
      CHECK(differ * 100 <= got[0].numel() * max_step);
    }
    cpu::set_thread_count(0);
    return true;
  }
  FAIL("no tactic named " << tactic);
  return false;
}

}  // namespace

TEST_CASE("the INT8 conv tactic computes the reference kernel's bytes across geometries and epilogues") {
  std::mt19937 rng(11);
  std::vector<QConvCase> cases = {
      {.x = {1, 16, 40, 40}, .maps = 16},                                  // rows shorter than a tile: packed
      {.x = {1, 64, 24, 64}, .maps = 64, .act = "Relu"},                  // rows of two tiles: read in place
      {.x = {1, 3, 33, 45}, .maps = 7, .act = "Relu"},                    // C and M far from 4 and 12
      {.x = {2, 8, 17, 19}, .maps = 13, .stride = 2},                     // batch, stride 2
      {.x = {1, 12, 36, 36}, .maps = 24, .dilation = 2, .pad = 2},        // dilated (U2Net's RSU4F)
      {.x = {1, 20, 20, 20}, .maps = 12, .kernel = 1, .pad = 0},          // 1x1
      {.x = {1, 5, 10, 70}, .maps = 9, .kernel = 5, .pad = 2},            // 5x5, a wide odd row
      {.x = {1, 16, 32, 32}, .maps = 16, .x_type = DType::I8, .y_type = DType::I8, .act = "Clip"},
      {.x = {1, 16, 35, 35}, .maps = 20, .residual = true, .act = "Relu", .after = true},  // U2Net's skip
      {.x = {1, 16, 35, 35}, .maps = 20, .residual = true, .r_type = DType::I8, .act = "Relu"},
      {.x = {1, 16, 35, 35}, .maps = 20, .residual = true, .act = "Relu", .after = true, .fixed = true},
      {.x = {1, 8, 21, 21}, .maps = 16, .act = "Clip", .fixed = true},
  };
  for (const QConvCase& c : cases) {
    CAPTURE(c.x[1]);
    CAPTURE(c.x[2]);
    CAPTURE(c.x[3]);
    CAPTURE(c.maps);
    CHECK(tactic_matches_reference(qconv_graph(c, rng), "qconv.vnni-gemm", rng));
  }
}

TEST_CASE("the INT8 row tactic computes the reference kernel's bytes for depthwise and grouped convs") {
  std::mt19937 rng(17);
  const std::vector<QConvCase> cases = {
      {.x = {1, 32, 28, 28}, .maps = 32, .act = "Relu", .group = 32},               // MobileNet's 3x3 depthwise
      {.x = {2, 24, 29, 31}, .maps = 24, .stride = 2, .group = 24},                  // strided depthwise, odd sizes
      {.x = {1, 16, 20, 20}, .maps = 32, .dilation = 2, .pad = 2, .group = 16},      // channel multiplier 2, dilated
      {.x = {1, 24, 18, 18}, .maps = 12, .kernel = 5, .pad = 2, .act = "Clip", .group = 4},  // grouped 5x5
      {.x = {1, 16, 19, 19}, .maps = 16, .x_type = DType::I8, .y_type = DType::I8, .residual = true, .act = "Relu",
       .after = true, .fixed = true, .group = 16},
      {.x = {1, 64, 30, 30}, .maps = 2, .kernel = 1, .pad = 0},                     // group 1, few maps
  };
  for (const QConvCase& c : cases) {
    CAPTURE(c.x[1]);
    CAPTURE(c.maps);
    CAPTURE(c.group);
    CHECK(tactic_matches_reference(qconv_graph(c, rng), "qconv.direct-rows", rng));
  }
}

TEST_CASE("the INT8 conv tactic refuses what it cannot run, saying why") {
  std::mt19937 rng(3);
  Graph g = qconv_graph({.x = {1, 8, 10, 10}, .maps = 8}, rng);
  const cpu::Tactic* qconv = nullptr;
  for (const cpu::Tactic& t : cpu::cpu_tactics())
    if (t.name == "qconv.vnni-gemm") qconv = &t;
  REQUIRE(qconv);
  CHECK(qconv->rejects(g, g.nodes[0]).empty());
  g.nodes[0].set_attr("group", int64_t{2});
  CHECK(qconv->rejects(g, g.nodes[0]).find("grouped") != std::string::npos);
  g.nodes[0].set_attr("group", int64_t{1});
  Tensor zeros(DType::I8, Dims{8});
  zeros.data<int8_t>()[3] = 1;
  g.value(g.nodes[0].inputs[5]).data = std::make_shared<const Tensor>(zeros);
  CHECK(qconv->rejects(g, g.nodes[0]).find("zero point") != std::string::npos);
}

TEST_CASE("quantize, dequantize and byte maxpool tactics compute the reference kernels' values") {
  std::mt19937 rng(5);
  for (DType q : {DType::U8, DType::I8}) {
    Graph quantize;
    const ValueId x = quantize.add_input("x", TensorType{DType::F32, Shape(Dims{3, 7, 1000})});
    const ValueId y = quantize.add_value("y");
    quantize.add_node(OpKind::QuantizeLinear, "q",
                      {x, quantize.add_const("s", scalar_f32(0.0123f)), quantize.add_const("z", scalar_byte(q, q == DType::U8 ? 128 : 0))},
                      {y});
    quantize.outputs = {y};
    infer_types(quantize);
    CHECK(tactic_matches_reference(quantize, "quantize.vectorised", rng));

    Graph dequantize;
    const ValueId b = dequantize.add_input("b", TensorType{q, Shape(Dims{5, 3001})});
    const ValueId f = dequantize.add_value("f");
    dequantize.add_node(OpKind::DequantizeLinear, "dq",
                        {b, dequantize.add_const("s", scalar_f32(0.37f)), dequantize.add_const("z", scalar_byte(q, q == DType::U8 ? 17 : -9))},
                        {f});
    dequantize.outputs = {f};
    infer_types(dequantize);
    CHECK(tactic_matches_reference(dequantize, "dequantize.vectorised", rng));

    Graph pool;
    const ValueId p = pool.add_input("p", TensorType{q, Shape(Dims{1, 6, 21, 20})});
    const ValueId o = pool.add_value("o");
    pool.add_node(OpKind::MaxPool, "pool", {p}, {o},
                  {{"kernel_shape", std::vector<int64_t>{2, 2}}, {"strides", std::vector<int64_t>{2, 2}}, {"ceil_mode", int64_t{1}}});
    pool.outputs = {o};
    infer_types(pool);
    CHECK(tactic_matches_reference(pool, "maxpool.direct-2d", rng));

    // U2Net's upsampling of a quantized map: bilinear, half-pixel, to an odd size.
    Graph resize;
    const ValueId r = resize.add_input("r", TensorType{q, Shape(Dims{1, 5, 10, 7})});
    const ValueId u = resize.add_value("u");
    Tensor sizes(DType::I64, Dims{4});
    const int64_t want[] = {1, 5, 21, 15};
    std::copy(want, want + 4, sizes.data<int64_t>());
    resize.add_node(OpKind::Resize, "up", {r, kNoValue, kNoValue, resize.add_const("sizes", sizes)}, {u},
                    {{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("half_pixel")}});
    resize.outputs = {u};
    infer_types(resize);
    CHECK(tactic_matches_reference(resize, "resize.separable-2d", rng, 1));
  }
}

TEST_CASE("the INT8 MatMul tactics compute the reference kernel's bytes and integers") {
  std::mt19937 rng(17);
  struct Case {
    Dims a;
    int64_t columns;
    DType a_type, y_type;
    bool per_column;
  };
  const Case cases[] = {{{37, 50}, 70, DType::U8, DType::U8, true},   // rows and columns off the tiles
                        {{2, 5, 33}, 9, DType::I8, DType::I8, false},  // batched A, K not a multiple of 4
                        {{64, 128}, 96, DType::U8, DType::I8, true},
                        {{9, 7}, 5, DType::I8, DType::U8, true}};
  for (const Case& c : cases) {
    CAPTURE(c.columns);
    const int64_t depth = c.a.back();
    const Tensor b = random_bytes(DType::I8, Dims{depth, c.columns}, rng);
    // QLinearMatMul
    Graph g;
    g.opset = 17;
    g.add_input("a", TensorType{c.a_type, Shape(c.a)});
    Tensor b_scale(DType::F32, Dims{c.per_column ? c.columns : 1});
    std::uniform_real_distribution<float> unit(0.5f, 1.5f);
    for (int64_t i = 0; i < b_scale.numel(); ++i) b_scale.data<float>()[i] = 0.004f * unit(rng);
    const float a_scale = 0.02f, y_scale = float(a_scale * 0.004 * 70 * 70 * std::sqrt(double(depth)) / 50);
    const std::vector<ValueId> in = {g.inputs[0],
                                     g.add_const("a_scale", scalar_f32(a_scale)),
                                     g.add_const("a_zero", scalar_byte(c.a_type, c.a_type == DType::U8 ? 120 : -4)),
                                     g.add_const("b", b),
                                     g.add_const("b_scale", b_scale),
                                     g.add_const("b_zero", Tensor(DType::I8, Dims{c.per_column ? c.columns : 1})),
                                     g.add_const("y_scale", scalar_f32(y_scale)),
                                     g.add_const("y_zero", scalar_byte(c.y_type, c.y_type == DType::U8 ? 100 : 3))};
    const ValueId y = g.add_value("y");
    g.add_node(OpKind::QLinearMatMul, "mm", in, {y}, {});
    g.outputs = {y};
    infer_types(g);
    CHECK(tactic_matches_reference(g, "qmatmul.vnni-gemm", rng));

    // MatMulInteger with a zero point for A given at run time (as DynamicQuantizeLinear does).
    Graph gi;
    gi.opset = 17;
    gi.add_input("a", TensorType{c.a_type, Shape(c.a)});
    const ValueId a_zero = gi.add_input("a_zero", TensorType{c.a_type, Shape(Dims{})});
    const ValueId yi = gi.add_value("y");
    gi.add_node(OpKind::MatMulInteger, "mmi", {gi.inputs[0], gi.add_const("b", b), a_zero}, {yi}, {});
    gi.outputs = {yi};
    infer_types(gi);
    CHECK(tactic_matches_reference(gi, "matmul-integer.vnni-gemm", rng));
  }
}

TEST_CASE("qmatmul.rows computes the reference kernel's bytes for products of two activations (attention)") {
  std::mt19937 rng(23);
  struct Case {
    Dims a, b;
    DType type;
    bool per_column_zero, bias, log2;
  };
  const Case cases[] = {
      {{2, 4, 17, 24}, {2, 4, 24, 33}, DType::U8, false, false, false},  // Q·Kᵀ per head
      {{4, 17, 24}, {24, 33}, DType::I8, true, true, false},              // B broadcast over the batch, a bias
      {{1, 4, 17, 17}, {1, 4, 17, 16}, DType::U8, false, false, true},    // P·V with log2-coded P
  };
  for (const Case& c : cases) {
    CAPTURE(c.log2);
    Graph g;
    g.opset = 17;
    const int64_t depth = c.a.back(), columns = c.b.back();
    ValueId a;
    if (c.log2) {  // codes 0..15 as QSoftmax writes them, a constant so that they stay in range
      Tensor codes(DType::U8, c.a);
      std::uniform_int_distribution<int> code(0, 15);
      for (int64_t i = 0; i < codes.numel(); ++i) codes.data<uint8_t>()[i] = uint8_t(code(rng));
      a = g.add_const("a", codes);
    } else {
      a = g.add_input("a", TensorType{c.type, Shape(c.a)});
    }
    g.add_input("b", TensorType{c.type, Shape(c.b)});
    Tensor b_zero(c.type, Dims{c.per_column_zero ? columns : 1});
    for (int64_t i = 0; i < b_zero.numel(); ++i) {
      if (c.type == DType::U8) b_zero.data<uint8_t>()[i] = uint8_t(110 + i % 30);
      else b_zero.data<int8_t>()[i] = int8_t(-10 + i % 20);
    }
    // |acc| ~ 74² · √depth in units of a_scale · b_scale (2^31 · 255 · ... for log2 codes).
    const double a_scale = c.log2 ? 1.0 : 0.02, b_scale = 0.01;
    const double spread = c.log2 ? std::ldexp(1.0, 31) * 74 * 2 : 74.0 * 74.0 * std::sqrt(double(depth));
    const double unit = c.log2 ? std::ldexp(a_scale * b_scale, -31) : a_scale * b_scale;
    std::vector<ValueId> in = {a,
                               g.add_const("a_scale", scalar_f32(float(a_scale))),
                               g.add_const("a_zero", scalar_byte(c.type, 0)),
                               g.inputs.back(),
                               g.add_const("b_scale", scalar_f32(float(b_scale))),
                               g.add_const("b_zero", b_zero),
                               g.add_const("y_scale", scalar_f32(float(unit * spread / 50))),
                               g.add_const("y_zero", scalar_byte(c.type, c.type == DType::U8 ? 128 : 0))};
    if (c.bias) {
      Tensor bias(DType::I32, Dims{columns});
      std::uniform_int_distribution<int> b(-20000, 20000);
      for (int64_t i = 0; i < columns; ++i) bias.data<int32_t>()[i] = b(rng);
      in.push_back(g.add_const("bias", bias));
    }
    std::vector<Attribute> attrs;
    if (c.log2) attrs.push_back({"a_encoding", std::string("log2")});
    const ValueId y = g.add_value("y");
    g.add_node(OpKind::QLinearMatMul, "mm", in, {y}, attrs);
    g.outputs = {y};
    infer_types(g);
    CHECK(tactic_matches_reference(g, "qmatmul.rows", rng));
  }
}
