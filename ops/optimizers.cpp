// ops/optimizers.cpp — one training step of Adagrad, Adam and Momentum, from ONNX's training
// domain ai.onnx.preview.training, opset 1. https://onnx.ai/onnx/operators/onnx_aionnxpreviewtraining_Adam.html
//
// Inputs: R (scalar learning rate), T (scalar int64 update count), then n tensors X (weights),
// n G (gradients) and n of each state (Adagrad: H; Momentum: V; Adam: V then H). Outputs: the n
// new X, then the n new values of each state. Per element, with G' = norm_coefficient * X + G:
//   Adagrad   r = R / (1 + T * decay_factor);  H' = H + G'^2;  X' = X - r G' / (sqrt(H') + eps)
//   Momentum  V' = alpha V + (T > 0 ? beta : 1) G';  X' = X - R V' (standard),
//             X' = X - R (G' + alpha V') (nesterov)
//   Adam      V' = alpha V + (1 - alpha) G';  H' = beta H + (1 - beta) G'^2;
//             r = T > 0 ? R sqrt(1 - beta^T) / (1 - alpha^T) : R;
//             X' = (1 - norm_coefficient_post) (X - r V' / (sqrt(H') + eps))
// Computed in double.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

// Number of state tensors per weight besides X and G.
int states_of(OpKind op) { return op == OpKind::Adam ? 2 : 1; }

// How many weights the node updates; checks that inputs and outputs come in matching groups.
int64_t group_size(const Node& n, int inputs, int outputs) {
  const int per_weight = 2 + states_of(n.op);
  if (inputs < 2 + per_weight || (inputs - 2) % per_weight != 0)
    node_error(n, "has {} inputs; {} takes R, T and then {} tensors per weight", inputs, op_name(n.op), per_weight);
  const int64_t weights = (inputs - 2) / per_weight;
  if (outputs > weights * (1 + states_of(n.op)))
    node_error(n, "has {} outputs but updates only {} weight(s)", outputs, weights);
  return weights;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const int64_t weights = group_size(n, c.input_count(), int(n.outputs.size()));
  if (!is_float(c.in(0).dtype)) node_error(n, "input 0 (R) has type {}; it must be a float type", dtype_name(c.in(0).dtype));
  if (c.in(1).dtype != DType::I64) node_error(n, "input 1 (T) has type {}; it must be i64", dtype_name(c.in(1).dtype));
  for (int i : {0, 1})
    if (c.in(i).shape.rank_known && c.in(i).shape.fully_known() && product(c.in(i).shape.concrete()) != 1)
      node_error(n, "input {} is {}; it must be a scalar", i, to_string(c.in(i).shape));
  if (n.op == OpKind::Momentum) {
    const std::string mode = attr_string(n, "mode");
    if (mode != "standard" && mode != "nesterov") node_error(n, "mode is '{}'; it must be standard or nesterov", mode);
  }
  std::vector<TensorType> out;
  for (int group = 0; group < 1 + states_of(n.op); ++group)
    for (int64_t w = 0; w < weights; ++w) {
      // The group's tensor must match its weight X in type and shape.
      const int x = 2 + int(w), tensor = 2 + int(weights) * (group == 0 ? 0 : group + 1) + int(w);
      const int gradient = 2 + int(weights) + int(w);
      for (int i : {tensor, gradient})
        if (c.in(i).dtype != c.in(x).dtype || c.in(i).shape != c.in(x).shape)
          node_error(n, "input {} is {} but its weight (input {}) is {}", i, to_string(c.in(i)), x, to_string(c.in(x)));
      if (!is_float(c.in(x).dtype)) node_error(n, "input {} has type {}; weights must be float", x, dtype_name(c.in(x).dtype));
      out.push_back(c.in(x));
    }
  return out;
}

void store(Tensor& t, const std::vector<double>& values) {
  visit_dtype(t.dtype(), [&]<typename T>() {
    T* out = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = from_double<T>(values[i]);
  });
}

void reference(KernelContext& k) {
  const Node& n = k.node;
  const int64_t weights = group_size(n, int(k.inputs.size()), int(k.outputs.size()));
  const double rate = k.in(0).get_double(0);
  const int64_t step = k.in(1).get_int(0);
  const double norm = attr_float(n, "norm_coefficient");
  for (int64_t w = 0; w < weights; ++w) {
    const std::vector<double> x = k.in(int(2 + w)).to_double_vector();
    const std::vector<double> g = k.in(int(2 + weights + w)).to_double_vector();
    std::vector<double> s1 = k.in(int(2 + 2 * weights + w)).to_double_vector();  // H, V, or Adam's V
    std::vector<double> s2;                                                    // Adam's H
    if (n.op == OpKind::Adam) s2 = k.in(int(2 + 3 * weights + w)).to_double_vector();
    std::vector<double> x_new(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      const double grad = norm * x[i] + g[i];
      if (n.op == OpKind::Adagrad) {
        const double r = rate / (1 + double(step) * attr_float(n, "decay_factor"));
        s1[i] += grad * grad;
        x_new[i] = x[i] - r * grad / (std::sqrt(s1[i]) + attr_float(n, "epsilon"));
      } else if (n.op == OpKind::Momentum) {
        const double alpha = attr_float(n, "alpha"), beta = step > 0 ? attr_float(n, "beta") : 1.0;
        s1[i] = alpha * s1[i] + beta * grad;
        const bool nesterov = attr_string(n, "mode") == "nesterov";
        x_new[i] = x[i] - rate * (nesterov ? grad + alpha * s1[i] : s1[i]);
      } else {
        const double alpha = attr_float(n, "alpha"), beta = attr_float(n, "beta");
        s1[i] = alpha * s1[i] + (1 - alpha) * grad;
        s2[i] = beta * s2[i] + (1 - beta) * grad * grad;
        const double t = double(step);
        const double r = step > 0 ? rate * std::sqrt(1 - std::pow(beta, t)) / (1 - std::pow(alpha, t)) : rate;
        x_new[i] = (1 - attr_float(n, "norm_coefficient_post")) *
                   (x[i] - r * s1[i] / (std::sqrt(s2[i]) + attr_float(n, "epsilon")));
      }
    }
    // Outputs may stop early (trailing optional ones omitted).
    const std::vector<double>* results[] = {&x_new, &s1, &s2};
    for (int group = 0; group < 1 + states_of(n.op); ++group)
      if (size_t index = size_t(group * weights + w); index < k.outputs.size()) store(k.out(int(index)), *results[group]);
  }
}

OpDef optimizer(OpKind kind, std::string_view onnx_name, std::vector<AttrSpec> attrs) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .domain = "ai.onnx.preview.training",
               .min_inputs = 2,
               .max_inputs = -1,
               .min_outputs = 1,
               .max_outputs = 1 << 16,  // as many as the inputs say
               .attrs = std::move(attrs),
               .infer = infer,
               .reference = reference};
}

}  // namespace

extern const OpDef kAdagrad = optimizer(OpKind::Adagrad, "Adagrad",
                                        {AttrSpec{"decay_factor", AttrType::Float, 0.0f},
                                         AttrSpec{"epsilon", AttrType::Float, 1e-6f},
                                         AttrSpec{"norm_coefficient", AttrType::Float, 0.0f}});

extern const OpDef kAdam = optimizer(OpKind::Adam, "Adam",
                                     {AttrSpec{"alpha", AttrType::Float, 0.9f},
                                      AttrSpec{"beta", AttrType::Float, 0.999f},
                                      AttrSpec{"epsilon", AttrType::Float, 1e-6f},
                                      AttrSpec{"norm_coefficient", AttrType::Float, 0.0f},
                                      AttrSpec{"norm_coefficient_post", AttrType::Float, 0.0f}});

// Momentum's attributes have no defaults in the spec: all four are required.
extern const OpDef kMomentum = optimizer(OpKind::Momentum, "Momentum",
                                         {AttrSpec{"alpha", AttrType::Float, std::nullopt},
                                          AttrSpec{"beta", AttrType::Float, std::nullopt},
                                          AttrSpec{"mode", AttrType::String, std::nullopt},
                                          AttrSpec{"norm_coefficient", AttrType::Float, std::nullopt}});

}  // namespace nnc
