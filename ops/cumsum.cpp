// ops/cumsum.cpp — CumSum: running sums along an axis given as a (scalar or 1-element) tensor.
// ONNX opsets 11, 14 (f16/bf16). https://onnx.ai/onnx/operators/onnx__CumSum.html
//
// exclusive=1 leaves the current element out (the first sum is 0); reverse=1 runs from the end.
// Float sums accumulate in double and integer sums in the integer type, wrapping like numpy.
#include "ops/op_def.h"

namespace nnc {
namespace {

int64_t axis_value(const Node& n, const Tensor& axis) {
  if (axis.dtype() != DType::I32 && axis.dtype() != DType::I64)
    node_error(n, "input 1 (axis) has type {}; it must be i32 or i64", dtype_name(axis.dtype()));
  if (axis.numel() != 1) node_error(n, "input 1 (axis) must hold one value, got {}", axis.numel());
  return axis.get_int(0);
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype) && !is_integer(x.dtype))
    node_error(c.node, "input 0 has type {}; CumSum takes numbers", dtype_name(x.dtype));
  if (const Tensor* axis = c.value(1); axis && x.shape.rank_known)
    normalize_axis(c.node, axis_value(c.node, *axis), x.rank());
  return {x};
}

// The running sum's type: double for floats, the unsigned twin of an integer (so it wraps).
template <typename T>
struct Accumulator {
  using type = double;
};
template <typename T>
requires std::is_integral_v<T>
struct Accumulator<T> {
  using type = std::make_unsigned_t<T>;
};

template <typename T>
void cumsum(const Tensor& x, int axis, bool exclusive, bool reverse, Tensor& y) {
  using Acc = typename Accumulator<T>::type;
  const int64_t n = x.dims()[size_t(axis)];
  const int64_t inner = product(std::span(x.dims()).subspan(size_t(axis) + 1));
  const int64_t outer = product(std::span(x.dims()).first(size_t(axis)));
  const T* in = x.data<T>();
  T* out = y.data<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      Acc sum = 0;
      for (int64_t step = 0; step < n; ++step) {
        const int64_t j = reverse ? n - 1 - step : step;
        const int64_t at = (o * n + j) * inner + i;
        Acc value;
        if constexpr (std::is_integral_v<T>)
          value = Acc(in[at]);
        else
          value = to_double(in[at]);
        if (!exclusive) sum = Acc(sum + value);
        if constexpr (std::is_integral_v<T>)
          out[at] = T(sum);
        else
          out[at] = from_double<T>(sum);
        if (exclusive) sum = Acc(sum + value);
      }
    }
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int axis = normalize_axis(k.node, axis_value(k.node, k.in(1)), x.rank());
  const bool exclusive = attr_int(k.node, "exclusive") != 0;
  const bool reverse = attr_int(k.node, "reverse") != 0;
  visit_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>)
      node_error(k.node, "CumSum does not take bool");
    else
      cumsum<T>(x, axis, exclusive, reverse, k.out(0));
  });
}

}  // namespace

extern const OpDef kCumSum{
    .kind = OpKind::CumSum,
    .onnx_name = "CumSum",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {AttrSpec{"exclusive", AttrType::Int, int64_t{0}},
              AttrSpec{"reverse", AttrType::Int, int64_t{0}}},
    .infer = infer,
    .reference = reference,
};

}  // namespace nnc
