// ops/variadic.cpp — Max, Min, Sum, Mean of 1..N inputs with numpy broadcasting. ONNX opsets
// 6, 8 (broadcasting), 12 (Max/Min on integers), 13. https://onnx.ai/onnx/operators/
//
// The output starts as input 0 broadcast to the output shape; each further input is folded in
// with the op's binary function, then Mean divides by N. Folding left to right in the input
// type gives the same rounding as numpy's reduce over the inputs. Max and Min propagate NaN,
// as numpy's maximum/minimum do.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const int n = c.input_count();
  if (n < 1) node_error(c.node, "needs at least one input");
  const DType t = c.in(0).dtype;
  const bool sum_or_mean = c.node.op == OpKind::Sum || c.node.op == OpKind::Mean;
  if (sum_or_mean ? !is_float(t) : !(is_float(t) || is_integer(t)))
    node_error(c.node, "input 0 has type {}; {} takes {}", dtype_name(t), op_name(c.node.op),
               sum_or_mean ? "float types" : "numbers");
  std::vector<Shape> shapes;
  for (int i = 0; i < n; ++i) {
    if (!c.has_input(i)) node_error(c.node, "input {} is missing; all inputs are required", i);
    if (c.in(i).dtype != t)
      node_error(c.node, "input {} has type {} but input 0 has {}", i, dtype_name(c.in(i).dtype),
                 dtype_name(t));
    shapes.push_back(c.in(i).shape);
  }
  return {TensorType{t, broadcast_shapes(c.node, shapes)}};
}

// out[i] = f(out[i], x broadcast to out), row by row along the last dim, where x either
// varies (stride 1) or is broadcast (stride 0).
template <typename T, typename F>
void fold_into(Tensor& out, const Tensor& x, F f) {
  const Dims& dims = out.dims();
  const int64_t total = out.numel();
  if (total == 0) return;
  const int64_t row = dims.empty() ? 1 : dims.back();
  const bool x_varies = x.rank() > 0 && x.dims().back() != 1;
  const T* in = x.data<T>();
  T* acc = out.data<T>();
  for (int64_t start = 0; start < total; start += row) {
    const T* xr = in + broadcast_index(start, dims, x.dims());
    T* ar = acc + start;
    if (x_varies)
      for (int64_t i = 0; i < row; ++i) ar[i] = f(ar[i], xr[i]);
    else
      for (int64_t i = 0; i < row; ++i) ar[i] = f(ar[i], xr[0]);
  }
}

template <typename T>
T max_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return a < b ? b : a;
}
template <typename T>
T min_of(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return b < a ? b : a;
}

template <typename T>
void variadic(KernelContext& k, Tensor& out) {
  const int n = int(k.inputs.size());
  const OpKind op = k.node.op;
  fold_into<T>(out, k.in(0), [](T, T x) { return x; });  // out = input 0, broadcast
  for (int i = 1; i < n; ++i) {
    const Tensor& x = k.in(i);
    if (op == OpKind::Max)
      fold_into<T>(out, x, max_of<T>);
    else if (op == OpKind::Min)
      fold_into<T>(out, x, min_of<T>);
    else
      fold_into<T>(out, x, [](T a, T b) { return T(a + b); });
  }
  if constexpr (std::is_floating_point_v<T>) {
    if (op == OpKind::Mean) {
      T* y = out.data<T>();
      for (int64_t i = 0; i < out.numel(); ++i) y[i] = y[i] / T(n);
    }
  }
}

void reference(KernelContext& k) {
  const DType t = k.in(0).dtype();
  if (t == DType::F16 || t == DType::BF16) {  // computed in f32, rounded once at the end
    std::vector<Tensor> widened;
    for (size_t i = 0; i < k.inputs.size(); ++i) widened.push_back(k.in(int(i)).cast(DType::F32));
    std::vector<const Tensor*> inputs;
    for (const Tensor& w : widened) inputs.push_back(&w);
    std::vector<Tensor> outputs{Tensor(DType::F32, k.out(0).dims())};
    KernelContext f32{k.node, inputs, outputs};
    variadic<float>(f32, outputs[0]);
    k.out(0) = outputs[0].cast(t);
    return;
  }
  visit_dtype(t, [&]<typename T>() {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
      variadic<T>(k, k.out(0));
    else
      node_error(k.node, "{} does not take {}", op_name(k.node.op), dtype_name(t));
  });
}

OpDef variadic_op(OpKind kind, std::string_view onnx_name) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .min_inputs = 1,
               .max_inputs = -1,
               .infer = infer,
               .reference = reference};
}

}  // namespace

extern const OpDef kMax = variadic_op(OpKind::Max, "Max");
extern const OpDef kMin = variadic_op(OpKind::Min, "Min");
extern const OpDef kMean = variadic_op(OpKind::Mean, "Mean");
extern const OpDef kSum = variadic_op(OpKind::Sum, "Sum");

}  // namespace nnc
