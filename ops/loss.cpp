// ops/loss.cpp — NegativeLogLikelihoodLoss (opsets 12, 13) and SoftmaxCrossEntropyLoss (12, 13).
// https://onnx.ai/onnx/operators/onnx__NegativeLogLikelihoodLoss.html
//
// Input [N, C, d1..dk] (log-probabilities, or scores for SCE), target [N, d1..dk] of class
// indices, optional weight [C]. Per element: loss = -input[n, target, d...] * weight[target],
// with loss and weight 0 where target == ignore_index. reduction "none" keeps [N, d1..dk];
// "sum" adds; "mean" divides the sum by the sum of the weights actually used (the element
// count when there are no weights), as ONNX's reference does. SCE is NLL applied to
// LogSoftmax(scores) along axis 1, and can also return those log-probabilities.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

enum class Reduction { None, Sum, Mean };

Reduction reduction_of(const Node& n) {
  const std::string r = attr_string(n, "reduction");
  if (r == "none") return Reduction::None;
  if (r == "sum") return Reduction::Sum;
  if (r == "mean") return Reduction::Mean;
  node_error(n, "reduction must be \"none\", \"sum\" or \"mean\", got \"{}\"", r);
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const TensorType& target = c.in(1);
  if (!is_float(x.dtype))
    node_error(n, "input 0 has type {}; it must be a float type", dtype_name(x.dtype));
  if (target.dtype != DType::I32 && target.dtype != DType::I64)
    node_error(n, "input 1 (target) has type {}; it must be i32 or i64", dtype_name(target.dtype));
  if (c.has_input(2) && c.in(2).dtype != x.dtype)
    node_error(n, "input 2 (weight) has type {} but input 0 has {}", dtype_name(c.in(2).dtype),
               dtype_name(x.dtype));
  Shape per_element = Shape::unknown_rank();
  if (x.shape.rank_known) {
    if (x.rank() < 2) node_error(n, "input 0 has rank {}; it must be [N, C, ...]", x.rank());
    per_element.rank_known = true;
    per_element.dims = x.shape.dims;
    per_element.dims.erase(per_element.dims.begin() + 1);  // [N, d1..dk]
    if (target.shape.rank_known) {
      bool ok = target.rank() == per_element.rank();
      for (int i = 0; ok && i < target.rank(); ++i) {
        const Dim& a = target.shape.dims[size_t(i)];
        const Dim& b = per_element.dims[size_t(i)];
        ok = !(a.known() && b.known() && a != b);
      }
      if (!ok)
        node_error(n, "target has shape {} but input {} needs [N, d1..dk] = {}",
                   to_string(target.shape), to_string(x.shape), to_string(per_element));
    }
  }
  const Shape loss_shape = reduction_of(n) == Reduction::None ? per_element : Shape(Dims{});
  std::vector<TensorType> out{TensorType{x.dtype, loss_shape}};
  if (n.op == OpKind::SoftmaxCrossEntropyLoss) out.push_back(x);  // log_prob
  return out;
}

// Log-softmax over axis 1 of [N, C, D] (D = prod(d1..dk)), in double.
std::vector<double> log_softmax_axis1(const std::vector<double>& x, int64_t N, int64_t C,
                                      int64_t D) {
  std::vector<double> out(x.size());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      auto at = [&](int64_t c) { return size_t((n * C + c) * D + d); };
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < C; ++c) max = std::max(max, x[at(c)]);
      double sum = 0;
      for (int64_t c = 0; c < C; ++c) sum += std::exp(x[at(c)] - max);
      const double log_sum = std::log(sum);
      for (int64_t c = 0; c < C; ++c) out[at(c)] = x[at(c)] - max - log_sum;
    }
  return out;
}

// Writes a std::vector<double> into a float tensor of the same element count.
void store(const std::vector<double>& values, Tensor& out) {
  visit_dtype(out.dtype(), [&]<typename T>() {
    T* y = out.data<T>();
    for (size_t i = 0; i < values.size(); ++i) y[i] = from_double<T>(values[i]);
  });
}

void reference(KernelContext& k) {
  const Node& node = k.node;
  const Dims& dims = k.in(0).dims();
  const int64_t N = dims[0], C = dims[1];
  const int64_t D = product(std::span(dims).subspan(2));
  std::vector<double> log_prob = k.in(0).to_double_vector();
  if (node.op == OpKind::SoftmaxCrossEntropyLoss) {
    log_prob = log_softmax_axis1(log_prob, N, C, D);
    if (k.outputs.size() > 1) store(log_prob, k.out(1));
  }
  const std::vector<int64_t> target = k.in(1).to_int_vector();
  std::vector<double> weight(size_t(C), 1.0);
  if (k.has_input(2)) {
    if (k.in(2).numel() != C)
      node_error(node, "weight has {} values but there are {} classes", k.in(2).numel(), C);
    weight = k.in(2).to_double_vector();
  }
  const bool has_ignore = node.has_attr("ignore_index");
  const int64_t ignore_index = has_ignore ? attr_int(node, "ignore_index") : 0;

  std::vector<double> loss(size_t(N * D), 0.0);
  double loss_sum = 0, weight_sum = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t d = 0; d < D; ++d) {
      const int64_t t = target[size_t(n * D + d)];
      if (has_ignore && t == ignore_index) continue;  // loss 0, weight 0
      if (t < 0 || t >= C)
        node_error(node, "target {} at position {} is outside the {} classes [0, {})", t, n * D + d,
                   C, C);
      const double w = weight[size_t(t)];
      const double l = -log_prob[size_t((n * C + t) * D + d)] * w;
      loss[size_t(n * D + d)] = l;
      loss_sum += l;
      weight_sum += w;
    }
  switch (reduction_of(node)) {
    case Reduction::None: store(loss, k.out(0)); break;
    case Reduction::Sum: store({loss_sum}, k.out(0)); break;
    case Reduction::Mean: store({loss_sum / weight_sum}, k.out(0)); break;
  }
}

std::vector<AttrSpec> loss_attrs() {
  return {AttrSpec{"reduction", AttrType::String, std::string("mean")},
          AttrSpec{.name = "ignore_index", .type = AttrType::Int, .optional = true}};
}

}  // namespace

extern const OpDef kNegativeLogLikelihoodLoss{
    .kind = OpKind::NegativeLogLikelihoodLoss,
    .onnx_name = "NegativeLogLikelihoodLoss",
    .min_inputs = 2,
    .max_inputs = 3,
    .attrs = loss_attrs(),
    .infer = infer,
    .reference = reference,
};

extern const OpDef kSoftmaxCrossEntropyLoss{
    .kind = OpKind::SoftmaxCrossEntropyLoss,
    .onnx_name = "SoftmaxCrossEntropyLoss",
    .min_inputs = 2,
    .max_inputs = 3,
    .min_outputs = 1,
    .max_outputs = 2,
    .attrs = loss_attrs(),
    .infer = infer,
    .reference = reference,
};

}  // namespace nnc
