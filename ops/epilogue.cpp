// ops/epilogue.cpp — see epilogue.h. The formulas are those of the ONNX ops they replace.
#include "ops/epilogue.h"

#include <cmath>

namespace nnc {
namespace {

struct Activation {
  std::string_view name;
  size_t params;
};

constexpr Activation kActivations[] = {
    {"Relu", 0},    {"LeakyRelu", 1}, {"Clip", 2}, {"Sigmoid", 0},  {"HardSigmoid", 2},
    {"HardSwish", 0}, {"Silu", 0},    {"Gelu", 0}, {"GeluTanh", 0}, {"Tanh", 0},
};

float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace

std::vector<AttrSpec> with_epilogue_attrs(std::vector<AttrSpec> attrs) {
  attrs.push_back(AttrSpec{.name = "act", .type = AttrType::String, .optional = true});
  attrs.push_back(AttrSpec{.name = "act_params", .type = AttrType::Floats, .optional = true});
  return attrs;
}

void validate_epilogue(const Node& n) {
  if (!n.has_attr("act")) return;
  const std::string act = attr_string(n, "act");
  const std::vector<float> params = n.has_attr("act_params") ? attr_floats(n, "act_params") : std::vector<float>{};
  for (const Activation& a : kActivations)
    if (a.name == act) {
      if (params.size() != a.params)
        node_error(n, "act={} takes {} act_params, got {}", act, a.params, params.size());
      return;
    }
  node_error(n, "act='{}' is not an activation nnc fuses", act);
}

void apply_epilogue(const Node& n, float* y, int64_t count) {
  if (!n.has_attr("act")) return;
  const std::string act = attr_string(n, "act");
  const std::vector<float> p = n.has_attr("act_params") ? attr_floats(n, "act_params") : std::vector<float>{};
  if (act == "Relu") {
    for (int64_t i = 0; i < count; ++i) y[i] = y[i] > 0 ? y[i] : 0.0f;
  } else if (act == "LeakyRelu") {
    for (int64_t i = 0; i < count; ++i) y[i] = y[i] >= 0 ? y[i] : p[0] * y[i];
  } else if (act == "Clip") {
    for (int64_t i = 0; i < count; ++i) y[i] = std::min(std::max(y[i], p[0]), p[1]);
  } else if (act == "Sigmoid") {
    for (int64_t i = 0; i < count; ++i) y[i] = sigmoid(y[i]);
  } else if (act == "HardSigmoid") {
    for (int64_t i = 0; i < count; ++i) y[i] = std::min(1.0f, std::max(0.0f, p[0] * y[i] + p[1]));
  } else if (act == "HardSwish") {
    for (int64_t i = 0; i < count; ++i) y[i] = y[i] * std::min(1.0f, std::max(0.0f, y[i] / 6.0f + 0.5f));
  } else if (act == "Silu") {
    for (int64_t i = 0; i < count; ++i) y[i] = y[i] * sigmoid(y[i]);
  } else if (act == "Gelu") {
    for (int64_t i = 0; i < count; ++i) y[i] = 0.5f * y[i] * (1.0f + std::erf(y[i] / std::sqrt(2.0f)));
  } else if (act == "GeluTanh") {
    const float k = std::sqrt(2.0f / float(M_PI));
    for (int64_t i = 0; i < count; ++i)
      y[i] = 0.5f * y[i] * (1.0f + std::tanh(k * (y[i] + 0.044715f * y[i] * y[i] * y[i])));
  } else if (act == "Tanh") {
    for (int64_t i = 0; i < count; ++i) y[i] = std::tanh(y[i]);
  } else {
    node_error(n, "act='{}' is not an activation nnc fuses", act);
  }
}

}  // namespace nnc
