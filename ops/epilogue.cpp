// ops/epilogue.cpp — see epilogue.h. The formulas are those of the ONNX ops they replace.
#include "ops/epilogue.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/fast_math.h"

namespace nnc {
namespace {

struct ActivationSpec {
  std::string_view name;
  size_t params;
  Activation::Kind kind;
};

using Kind = Activation::Kind;
constexpr ActivationSpec kActivations[] = {
    {"Relu", 0, Kind::Relu},           {"LeakyRelu", 1, Kind::LeakyRelu}, {"Clip", 2, Kind::Clip},
    {"Sigmoid", 0, Kind::Sigmoid},     {"HardSigmoid", 2, Kind::HardSigmoid}, {"HardSwish", 0, Kind::HardSwish},
    {"Silu", 0, Kind::Silu},           {"Gelu", 0, Kind::Gelu},           {"GeluTanh", 0, Kind::GeluTanh},
    {"Tanh", 0, Kind::Tanh},
};

float sigmoid(float x) { return 1.0f / (1.0f + exp_vectorisable(-x)); }

// The two activations that need e^x, compiled for each instruction set (picked at load time).
__attribute__((target_clones("avx512f", "avx2", "default"))) void sigmoid_in_place(float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = sigmoid(y[i]);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void silu_in_place(float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = y[i] * sigmoid(y[i]);
}
// The cheap activations, also cloned: they run over every conv output row, and the baseline
// x86-64 build would do them four floats at a time. (One function each rather than one template
// taking a lambda: clang cannot clone templates.)
__attribute__((target_clones("avx512f", "avx2", "default"))) void relu_in_place(float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = y[i] > 0 ? y[i] : 0.0f;
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void leaky_relu_in_place(float* y, int64_t count, float a) {
  for (int64_t i = 0; i < count; ++i) y[i] = y[i] >= 0 ? y[i] : a * y[i];
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void clip_in_place(float* y, int64_t count, float lo, float hi) {
  for (int64_t i = 0; i < count; ++i) y[i] = std::min(std::max(y[i], lo), hi);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void hard_sigmoid_in_place(float* y, int64_t count, float a,
                                                                                      float b) {
  for (int64_t i = 0; i < count; ++i) y[i] = std::min(1.0f, std::max(0.0f, a * y[i] + b));
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void hard_swish_in_place(float* y, int64_t count) {
  for (int64_t i = 0; i < count; ++i) y[i] = y[i] * std::min(1.0f, std::max(0.0f, y[i] / 6.0f + 0.5f));
}

}  // namespace

std::vector<AttrSpec> with_epilogue_attrs(std::vector<AttrSpec> attrs) {
  attrs.push_back(AttrSpec{.name = "act", .type = AttrType::String, .optional = true});
  attrs.push_back(AttrSpec{.name = "act_params", .type = AttrType::Floats, .optional = true});
  return attrs;
}

Activation Activation::of(const Node& n) {
  if (!n.has_attr("act")) return {};
  const std::string act = attr_string(n, "act");
  const std::vector<float> params = n.has_attr("act_params") ? attr_floats(n, "act_params") : std::vector<float>{};
  for (const ActivationSpec& a : kActivations)
    if (a.name == act) {
      if (params.size() != a.params)
        node_error(n, "act={} takes {} act_params, got {}", act, a.params, params.size());
      return Activation{a.kind, a.params > 0 ? params[0] : 0.0f, a.params > 1 ? params[1] : 0.0f};
    }
  node_error(n, "act='{}' is not an activation nnc fuses", act);
}

void validate_epilogue(const Node& n) { (void)Activation::of(n); }

void Activation::apply(float* y, int64_t count) const {
  switch (kind) {
    case Kind::None:
      return;
    case Kind::Relu:
      relu_in_place(y, count);
      return;
    case Kind::LeakyRelu:
      leaky_relu_in_place(y, count, p0);
      return;
    case Kind::Clip:
      clip_in_place(y, count, p0, p1);
      return;
    case Kind::Sigmoid:
      sigmoid_in_place(y, count);
      return;
    case Kind::HardSigmoid:
      hard_sigmoid_in_place(y, count, p0, p1);
      return;
    case Kind::HardSwish:
      hard_swish_in_place(y, count);
      return;
    case Kind::Silu:
      silu_in_place(y, count);
      return;
    case Kind::Gelu:
      for (int64_t i = 0; i < count; ++i) y[i] = 0.5f * y[i] * (1.0f + std::erf(y[i] / std::sqrt(2.0f)));
      return;
    case Kind::GeluTanh: {
      const float k = std::sqrt(2.0f / float(M_PI));
      for (int64_t i = 0; i < count; ++i)
        y[i] = 0.5f * y[i] * (1.0f + std::tanh(k * (y[i] + 0.044715f * y[i] * y[i] * y[i])));
      return;
    }
    case Kind::Tanh:
      for (int64_t i = 0; i < count; ++i) y[i] = std::tanh(y[i]);
      return;
  }
}

bool residual_after_activation(const Node& n) {
  return n.has_attr("residual_after_act") && attr_int(n, "residual_after_act") != 0;
}

void apply_epilogue(const Node& n, float* y, int64_t count) { Activation::of(n).apply(y, count); }

}  // namespace nnc
