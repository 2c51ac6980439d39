#include <doctest/doctest.h>

#include "ir_test_util.h"
#include "passes/eliminate_dead_code.h"
#include "passes/fuse_activations.h"
#include "ops/epilogue.h"

using namespace nnc;
using nnc::testing::expect_ir;
using nnc::testing::expect_same_outputs;
using nnc::testing::parse_typed;

namespace {

// Runs the pass, checks the printed IR and that the rewrite computes what the original did.
void expect_fused(const std::string& before_text, int rewrites, const std::string& after_text) {
  Graph g = parse_typed(before_text);
  const Graph before = g;
  CHECK(fuse_activations(g).rewrites() == rewrites);
  eliminate_dead_code(g);
  expect_ir(g, after_text);
  expect_same_outputs(before, g);
}

PassReport expect_untouched(const std::string& text) {
  Graph g = parse_typed(text);
  const std::string printed = print_ir(g);
  const PassReport report = fuse_activations(g);
  CHECK(report.rewrites() == 0);
  CHECK(print_ir(g) == printed);
  return report;
}

const char* kConvAddRelu = R"(graph t opset=13
input  %x     f32[1,4,6,6]
input  %skip  f32[1,8,6,6]
const  @w     f32[8,4,3,3]  random(seed=1)
const  @b     f32[8]        random(seed=2)
%c  f32[1,8,6,6]  = Conv  %x, @w, @b  pads=[1,1,1,1]
%s  f32[1,8,6,6]  = Add   %c, %skip
%y  f32[1,8,6,6]  = Relu  %s
return %y
)";

}  // namespace

TEST_CASE("fuse-activations: Conv + residual Add + Relu become one Conv (conv + bias + add + relu)") {
  expect_fused(kConvAddRelu, 2, R"(graph t opset=13
input %x f32[1,4,6,6]
input %skip f32[1,8,6,6]
const @w f32[8,4,3,3] random(seed=1)
const @b f32[8] random(seed=2)
%y f32[1,8,6,6] = Conv %x, @w, @b, %skip pads=[1,1,1,1] act="Relu" # from c, s, y
return %y
)");
}

TEST_CASE("fuse-activations: every supported activation fuses into Conv, Gemm and ConvTranspose") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"Relu", R"(act="Relu")"},
      {"LeakyRelu alpha=0.1", R"(act="LeakyRelu" act_params=[0.1])"},
      {"Sigmoid", R"(act="Sigmoid")"},
      {"HardSigmoid alpha=0.3 beta=0.4", R"(act="HardSigmoid" act_params=[0.3, 0.4])"},
      {"HardSwish", R"(act="HardSwish")"},
      {"Tanh", R"(act="Tanh")"},
      {"Gelu", R"(act="Gelu")"},
      {R"(Gelu approximate="tanh")", R"(act="GeluTanh")"},
  };
  for (const auto& [activation, epilogue] : cases) {
    const std::string op = activation.substr(0, activation.find(' '));
    const std::string attrs = activation.find(' ') == std::string::npos ? "" : activation.substr(activation.find(' ') + 1);
    INFO(activation);
    expect_fused(fmt::format(R"(graph t opset=20
input  %x  f32[3,5]
const  @w  f32[4,5]  random(seed=1)
const  @b  f32[4]    random(seed=2)
%c  f32[3,4]  = Gemm  %x, @w, @b  transB=1
%y  f32[3,4]  = {}  %c  {}
return %y
)", op, attrs),
                 1, fmt::format(R"(graph t opset=20
input %x f32[3,5]
const @w f32[4,5] random(seed=1)
const @b f32[4] random(seed=2)
%y f32[3,4] = Gemm %x, @w, @b transB=1 {} # from c, y
return %y
)", epilogue));
  }
  expect_fused(R"(graph t opset=13
input  %x  f32[1,4,5,5]
const  @w  f32[4,2,3,3]  random(seed=1)
%c  f32[1,2,11,11]  = ConvTranspose  %x, @w  strides=[2,2]
%y  f32[1,2,11,11]  = Tanh  %c
return %y
)",
               1, R"(graph t opset=13
input %x f32[1,4,5,5]
const @w f32[4,2,3,3] random(seed=1)
%y f32[1,2,11,11] = ConvTranspose %x, @w strides=[2,2] act="Tanh" # from c, y
return %y
)");
}

TEST_CASE("fuse-activations: Clip with constant bounds (ReLU6) fuses; a missing bound is infinite") {
  expect_fused(R"(graph t opset=13
input  %x   f32[1,3,4,4]
const  @w   f32[2,3,1,1]  random(seed=1)
const  @lo  f32[]  [0.0]
const  @hi  f32[]  [6.0]
%c  f32[1,2,4,4]  = Conv  %x, @w
%y  f32[1,2,4,4]  = Clip  %c, @lo, @hi
return %y
)",
               1, R"(graph t opset=13
input %x f32[1,3,4,4]
const @w f32[2,3,1,1] random(seed=1)
%y f32[1,2,4,4] = Conv %x, @w act="Clip" act_params=[0.0, 6.0] # from c, y
return %y
)");
}

TEST_CASE("fuse-activations: spelled-out SiLU (x * Sigmoid(x)) and HardSwish (x * HardSigmoid(x)) fuse") {
  expect_fused(R"(graph t opset=13
input  %x  f32[1,3,4,4]
const  @w  f32[2,3,1,1]  random(seed=1)
%c  f32[1,2,4,4]  = Conv     %x, @w
%g  f32[1,2,4,4]  = Sigmoid  %c
%y  f32[1,2,4,4]  = Mul      %c, %g
return %y
)",
               1, R"(graph t opset=13
input %x f32[1,3,4,4]
const @w f32[2,3,1,1] random(seed=1)
%y f32[1,2,4,4] = Conv %x, @w act="Silu" # from c, g, y
return %y
)");
  expect_fused(R"(graph t opset=13
input  %x  f32[1,3,4,4]
const  @w  f32[2,3,1,1]  random(seed=1)
%c  f32[1,2,4,4]  = Conv         %x, @w
%g  f32[1,2,4,4]  = HardSigmoid  %c  alpha=0.1666666716337204
%y  f32[1,2,4,4]  = Mul          %g, %c
return %y
)",
               1, R"(graph t opset=13
input %x f32[1,3,4,4]
const @w f32[2,3,1,1] random(seed=1)
%y f32[1,2,4,4] = Conv %x, @w act="HardSwish" # from c, g, y
return %y
)");
}

TEST_CASE("fuse-activations: MatMul + bias Add + Gelu (a transformer MLP) become one MatMul") {
  expect_fused(R"(graph t opset=13
input  %x  f32[2,3,5]
const  @w  f32[5,4]  random(seed=1)
const  @b  f32[4]    random(seed=2)
%m  f32[2,3,4]  = MatMul  %x, @w
%a  f32[2,3,4]  = Add     @b, %m
%y  f32[2,3,4]  = Gelu    %a
return %y
)",
               2, R"(graph t opset=13
input %x f32[2,3,5]
const @w f32[5,4] random(seed=1)
const @b f32[4] random(seed=2)
%y f32[2,3,4] = MatMul %x, @w, @b act="Gelu" # from m, a, y
return %y
)");
}

TEST_CASE("fuse-activations: must not fire when the Conv's output has another reader or is a graph output") {
  const PassReport shared = expect_untouched(R"(graph t opset=13
input  %x  f32[1,3,4,4]
const  @w  f32[2,3,1,1]  random(seed=1)
%c  f32[1,2,4,4]  = Conv  %x, @w
%y  f32[1,2,4,4]  = Relu  %c
%z  f32[1,2,4,4]  = Sigmoid  %c
return %y, %z
)");
  REQUIRE(shared.notes().size() == 2);
  CHECK(shared.notes()[0].find("also read by 1 other node") != std::string::npos);
  const PassReport output = expect_untouched(R"(graph t opset=13
input  %x  f32[1,3,4,4]
const  @w  f32[2,3,1,1]  random(seed=1)
%c  f32[1,2,4,4]  = Conv  %x, @w
%y  f32[1,2,4,4]  = Relu  %c
return %y, %c
)");
  REQUIRE(output.notes().size() == 1);
  CHECK(output.notes()[0].find("graph output") != std::string::npos);
}

TEST_CASE("fuse-activations: must not fire for a broadcasting residual, or an activation after a fused residual") {
  expect_untouched(R"(graph t opset=13
input  %x     f32[1,4,6,6]
input  %skip  f32[1,8,1,1]
const  @w     f32[8,4,3,3]  random(seed=1)
%c  f32[1,8,6,6]  = Conv  %x, @w  pads=[1,1,1,1]
%y  f32[1,8,6,6]  = Add   %c, %skip
return %y
)");
  // sigmoid(relu(conv) + skip): the residual fuses after the Relu, the Sigmoid cannot follow.
  Graph g = parse_typed(R"(graph t opset=13
input  %x     f32[1,4,6,6]
input  %skip  f32[1,8,6,6]
const  @w     f32[8,4,3,3]  random(seed=1)
%c  f32[1,8,6,6]  = Conv  %x, @w  pads=[1,1,1,1] act="Relu"
%y  f32[1,8,6,6]  = Add   %c, %skip
%z  f32[1,8,6,6]  = Sigmoid  %y
return %z
)");
  const Graph before = g;
  const PassReport report = fuse_activations(g);
  CHECK(report.rewrites() == 1);
  const std::vector<std::string>& notes = report.notes();
  CHECK(std::count_if(notes.begin(), notes.end(), [](const std::string& note) {
          return note.find("Sigmoid after Conv: 'c' already ends in act=Relu") != std::string::npos;
        }) == 1);
  expect_same_outputs(before, g);
}

TEST_CASE("fuse-activations: relu(conv) + skip (a U2Net block's exit) becomes one Conv adding the skip last") {
  expect_fused(R"(graph t opset=13
input  %x     f32[1,4,6,6]
input  %skip  f32[1,8,6,6]
const  @w     f32[8,4,3,3]  random(seed=1)
const  @b     f32[8]        random(seed=2)
%c  f32[1,8,6,6]  = Conv  %x, @w, @b  pads=[1,1,1,1]
%r  f32[1,8,6,6]  = Relu  %c
%y  f32[1,8,6,6]  = Add   %skip, %r
return %y
)",
               2, R"(graph t opset=13
input %x f32[1,4,6,6]
input %skip f32[1,8,6,6]
const @w f32[8,4,3,3] random(seed=1)
const @b f32[8] random(seed=2)
%y f32[1,8,6,6] = Conv %x, @w, @b, %skip pads=[1,1,1,1] act="Relu" residual_after_act=1 # from c, r, y
return %y
)");
}

TEST_CASE("fuse-activations: a Clip with a computed bound stays a Clip") {
  expect_untouched(R"(graph t opset=13
input  %x   f32[1,3,4,4]
input  %hi  f32[]
const  @w   f32[2,3,1,1]  random(seed=1)
%c  f32[1,2,4,4]  = Conv  %x, @w
%y  f32[1,2,4,4]  = Clip  %c, _, %hi
return %y
)");
}

TEST_CASE("fuse-activations: GroupNormalization + SiLU (a diffusion U-Net block) become one GroupNormalization") {
  expect_fused(R"(graph t opset=18
input  %x  f32[1,4,5,5]
const  @s  f32[4]  random(seed=1)
const  @b  f32[4]  random(seed=2)
%n  f32[1,4,5,5]  = GroupNormalization  %x, @s, @b  num_groups=2
%g  f32[1,4,5,5]  = Sigmoid  %n
%y  f32[1,4,5,5]  = Mul      %n, %g
return %y
)",
               1, R"(graph t opset=18
input %x f32[1,4,5,5]
const @s f32[4] random(seed=1)
const @b f32[4] random(seed=2)
%y f32[1,4,5,5] = GroupNormalization %x, @s, @b num_groups=2 act="Silu" # from n, g, y
return %y
)");
}

TEST_CASE("fused sigmoid and SiLU epilogues stay within float precision of the exact functions") {
  // Their e^x is a polynomial (ops/epilogue.cpp); check it over the whole range, saturation included.
  std::vector<float> xs;
  for (float x = -100.0f; x <= 100.0f; x += 0.01953125f) xs.push_back(x);
  for (const char* act : {"Sigmoid", "Silu"}) {
    Node n;
    n.set_attr("act", std::string(act));
    std::vector<float> y = xs;
    Activation::of(n).apply(y.data(), int64_t(y.size()));
    double worst = 0;
    for (size_t i = 0; i < xs.size(); ++i) {
      const double s = 1.0 / (1.0 + std::exp(-double(xs[i])));
      const double exact = std::string(act) == "Silu" ? xs[i] * s : s;
      worst = std::max(worst, std::abs(y[i] - exact) / std::max(std::abs(exact), 1e-30));
    }
    INFO(act << ": worst relative error " << worst);
    CHECK(worst < 1e-6);
  }
}
