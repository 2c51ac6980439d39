// ops/softmax.cpp — Softmax, LogSoftmax and Hardmax along one axis. ONNX opsets 1, 11, 13.
// https://onnx.ai/onnx/operators/onnx__Softmax.html
//
// Opset 13 normalises along `axis` alone (default -1). Before 13 the default axis was 1 and the
// input was coerced to 2-D, [prod(dims[:axis]), prod(dims[axis:])], so the op normalised over
// all of dims[axis:] at once. The upgrade hook keeps old nodes' meaning by writing their axis
// explicitly and setting nnc's attribute coerce_2d=1; the kernel handles both forms. (`axis`
// has no schema default so that an explicit axis=-1 in an old model is not mistaken for an
// absent one; absent means -1.)
//
// Numerically stable: the lane's max is subtracted before exp, so exp never overflows.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

int axis_of(const Node& n, int rank) {
  const int64_t axis = n.has_attr("axis") ? attr_int(n, "axis") : -1;
  // A rank-0 input has one lane of one element; treat it as axis 0 of [1].
  return rank == 0 ? 0 : normalize_axis(n, axis, rank);
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype))
    node_error(c.node, "input 0 has type {}; {} takes float types", dtype_name(x.dtype),
               op_name(c.node.op));
  if (x.shape.rank_known) axis_of(c.node, x.rank());  // validates the axis
  return {x};
}

// The tensor as [outer, n, inner] lanes: normalisation runs over n, stride inner.
struct Lanes {
  int64_t outer, n, inner;
};

Lanes lanes_of(const Node& node, const Dims& dims) {
  const int axis = axis_of(node, int(dims.size()));
  const std::span<const int64_t> all(dims);
  const int64_t outer = product(all.first(std::min(size_t(axis), all.size())));
  if (attr_int(node, "coerce_2d"))
    return {outer, product(all.subspan(std::min(size_t(axis), all.size()))), 1};
  if (dims.empty()) return {1, 1, 1};
  return {outer, dims[size_t(axis)], product(all.subspan(size_t(axis) + 1))};
}

template <typename T>
void normalize(OpKind op, const T* x, T* y, const Lanes& l) {
  std::vector<double> e(static_cast<size_t>(l.n));
  for (int64_t o = 0; o < l.outer; ++o)
    for (int64_t i = 0; i < l.inner; ++i) {
      const T* in = x + o * l.n * l.inner + i;
      T* out = y + o * l.n * l.inner + i;
      double max = -std::numeric_limits<double>::infinity();
      int64_t argmax = 0;
      for (int64_t j = 0; j < l.n; ++j) {
        const double v = to_double(in[j * l.inner]);
        if (v > max) max = v, argmax = j;  // the first maximum, as Hardmax requires
      }
      if (op == OpKind::Hardmax) {
        for (int64_t j = 0; j < l.n; ++j)
          out[j * l.inner] = from_double<T>(j == argmax ? 1.0 : 0.0);
        continue;
      }
      double sum = 0;
      for (int64_t j = 0; j < l.n; ++j) {
        e[size_t(j)] = std::exp(to_double(in[j * l.inner]) - max);
        sum += e[size_t(j)];
      }
      if (op == OpKind::Softmax) {
        for (int64_t j = 0; j < l.n; ++j) out[j * l.inner] = from_double<T>(e[size_t(j)] / sum);
      } else {
        const double log_sum = std::log(sum);
        for (int64_t j = 0; j < l.n; ++j)
          out[j * l.inner] = from_double<T>(to_double(in[j * l.inner]) - max - log_sum);
      }
    }
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const Lanes lanes = lanes_of(k.node, x.dims());
  if (x.numel() == 0) return;
  visit_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_integral_v<T>)
      node_error(k.node, "{} takes float types", op_name(k.node.op));
    else
      normalize<T>(k.node.op, x.data<T>(), k.out(0).data<T>(), lanes);
  });
}

// Opset < 13: write the old default axis (1) explicitly and ask for the 2-D coercion.
void upgrade(Node& n, UpgradeContext& c) {
  if (c.opset >= 13) return;
  if (!n.has_attr("axis")) n.set_attr("axis", int64_t{1});
  n.set_attr("coerce_2d", int64_t{1});
}

OpDef softmax_op(OpKind kind, std::string_view onnx_name) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .attrs = {AttrSpec{.name = "axis", .type = AttrType::Int, .optional = true},
                         AttrSpec{"coerce_2d", AttrType::Int, int64_t{0}}},
               .infer = infer,
               .reference = reference,
               .upgrade = upgrade};
}

}  // namespace

extern const OpDef kSoftmax = softmax_op(OpKind::Softmax, "Softmax");
extern const OpDef kLogSoftmax = softmax_op(OpKind::LogSoftmax, "LogSoftmax");
extern const OpDef kHardmax = softmax_op(OpKind::Hardmax, "Hardmax");

}  // namespace nnc
