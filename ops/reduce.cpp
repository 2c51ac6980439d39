// ops/reduce.cpp — the ten Reduce* ops and ArgMax/ArgMin. ONNX opsets 1, 11, 13, 18.
// https://onnx.ai/onnx/operators/
//
// Reduce axes are an optional input since opset 13 (ReduceSum) or 18 (the others); older
// models' `axes` attribute becomes that input in the importer (`legacy`). No axes means all
// axes, unless noop_with_empty_axes is set: then nothing is reduced and each output element is
// the "reduction" of one input element (ReduceSumSquare gives x^2, as ONNX's reference does).
//
// The kernel accumulates each output element in double for float inputs, and in 64-bit
// integers (wrapping like numpy) for integer inputs where the result is an integer anyway
// (Sum, Prod, Max, Min, L1, SumSquare), so int64 sums stay exact. Reducing an empty set gives
// the identity: 0 for sums, 1 for Prod, -inf/+inf (or the integer extremes) for Max/Min,
// -inf for LogSum/LogSumExp, NaN for Mean.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

// --- which axes ------------------------------------------------------------------------------
// reduced[d] for each input dim; nullopt when the axes are not known yet (computed at run time).
std::optional<std::vector<bool>> reduced_axes(const Node& n, int rank, bool has_axes,
                                              const Tensor* axes) {
  if (has_axes && !axes) return std::nullopt;
  std::vector<int64_t> list = axes ? axes->to_int_vector() : std::vector<int64_t>{};
  const bool reduce_all = list.empty() && !attr_int(n, "noop_with_empty_axes");
  std::vector<bool> reduced(size_t(rank), reduce_all);
  for (int64_t a : list) {
    const int d = normalize_axis(n, a, rank);
    if (reduced[size_t(d)]) node_error(n, "axis {} is listed twice in axes", a);
    reduced[size_t(d)] = true;
  }
  return reduced;
}

std::vector<TensorType> infer_reduce(InferContext& c) {
  const DType t = c.in(0).dtype;
  if (!is_float(t) && !is_integer(t))
    node_error(c.node, "input 0 has type {}; {} takes numbers", dtype_name(t), op_name(c.node.op));
  const bool keepdims = attr_int(c.node, "keepdims") != 0;
  const Shape& in = c.in(0).shape;
  if (!in.rank_known) return {TensorType{t, Shape::unknown_rank()}};
  const auto reduced = reduced_axes(c.node, in.rank(), c.has_input(1), c.value(1));
  if (!reduced) {  // axes computed at run time: only the rank is known, and only if kept
    if (!keepdims) return {TensorType{t, Shape::unknown_rank()}};
    return {TensorType{t, Shape(std::vector<Dim>(size_t(in.rank()), Dim()))}};
  }
  std::vector<Dim> dims;
  for (int d = 0; d < in.rank(); ++d) {
    if (!(*reduced)[size_t(d)])
      dims.push_back(in.dims[size_t(d)]);
    else if (keepdims)
      dims.push_back(Dim(1));
  }
  return {TensorType{t, Shape(dims)}};
}

// --- the kernel ------------------------------------------------------------------------------
// Calls f(input_index, output_index) for every input element, row by row along the last dim.
// out_strides[d] is the output stride of input dim d, 0 where d is reduced.
template <typename F>
void walk(const Dims& dims, const Dims& out_strides, F f) {
  const int64_t total = product(dims);
  if (total == 0) return;
  const int rank = int(dims.size());
  const int64_t row = rank == 0 ? 1 : dims.back();
  const int64_t row_stride = rank == 0 ? 0 : out_strides.back();
  std::vector<int64_t> index(size_t(std::max(rank - 1, 0)), 0);
  int64_t out_base = 0;
  for (int64_t start = 0; start < total; start += row) {
    for (int64_t i = 0; i < row; ++i) f(start + i, out_base + i * row_stride);
    for (int d = rank - 2; d >= 0; --d) {
      out_base += out_strides[size_t(d)];
      if (++index[size_t(d)] < dims[size_t(d)]) break;
      out_base -= out_strides[size_t(d)] * dims[size_t(d)];
      index[size_t(d)] = 0;
    }
  }
}

template <typename Acc>
Acc wrap_add(Acc a, Acc b) {
  if constexpr (std::is_integral_v<Acc>)
    return Acc(uint64_t(a) + uint64_t(b));
  else
    return a + b;
}
template <typename Acc>
Acc wrap_mul(Acc a, Acc b) {
  if constexpr (std::is_integral_v<Acc>)
    return Acc(uint64_t(a) * uint64_t(b));
  else
    return a * b;
}

template <typename Acc>
Acc magnitude(Acc v) {
  if constexpr (std::is_unsigned_v<Acc>)
    return v;
  else
    return v < 0 ? wrap_mul(v, Acc(-1)) : v;
}

// T is the element type; Acc is double, or int64/uint64 for exact integer reductions.
template <typename T, typename Acc>
void reduce(const Node& n, const Tensor& x, const std::vector<bool>& reduced, Tensor& out) {
  const OpKind op = n.op;
  const T* in = x.data<T>();
  auto value = [&](int64_t i) -> Acc {
    if constexpr (std::is_integral_v<Acc>)
      return Acc(in[i]);
    else
      return to_double(in[i]);
  };
  Dims kept_dims = x.dims();
  int64_t count = 1;  // input elements per output element
  for (size_t d = 0; d < reduced.size(); ++d)
    if (reduced[d]) count *= kept_dims[d], kept_dims[d] = 1;
  Dims out_strides = strides_of(kept_dims);
  for (size_t d = 0; d < reduced.size(); ++d)
    if (reduced[d]) out_strides[d] = 0;

  constexpr bool integral = std::is_integral_v<Acc>;
  Acc lowest, highest;
  if constexpr (integral) {
    lowest = Acc(std::numeric_limits<T>::lowest());
    highest = Acc(std::numeric_limits<T>::max());
  } else {
    lowest = -std::numeric_limits<double>::infinity();
    highest = std::numeric_limits<double>::infinity();
  }
  const Acc init = op == OpKind::ReduceProd  ? Acc(1)
                   : op == OpKind::ReduceMax ? lowest
                   : op == OpKind::ReduceMin ? highest
                                             : Acc(0);
  std::vector<Acc> acc(size_t(out.numel()), init);
  std::vector<Acc> shift;  // LogSumExp: the max, subtracted before exp so exp cannot overflow
  if constexpr (!integral) {
    if (op == OpKind::ReduceLogSumExp) {
      shift.assign(acc.size(), lowest);
      walk(x.dims(), out_strides,
           [&](int64_t i, int64_t o) { shift[size_t(o)] = std::max(shift[size_t(o)], value(i)); });
      for (Acc& s : shift) s = std::isfinite(s) ? s : 0;
    }
  }
  walk(x.dims(), out_strides, [&](int64_t i, int64_t o) {
    Acc& a = acc[size_t(o)];
    const Acc v = value(i);
    switch (op) {
      // `v != v`: a NaN input wins and then stays, as in numpy.
      case OpKind::ReduceMax:
        if (v > a || v != v) a = v;
        break;
      case OpKind::ReduceMin:
        if (v < a || v != v) a = v;
        break;
      case OpKind::ReduceProd: a = wrap_mul(a, v); break;
      case OpKind::ReduceL1: a = wrap_add(a, magnitude(v)); break;
      case OpKind::ReduceL2:
      case OpKind::ReduceSumSquare: a = wrap_add(a, wrap_mul(v, v)); break;
      case OpKind::ReduceLogSumExp:
        if constexpr (!integral) a += std::exp(v - shift[size_t(o)]);
        break;
      default: a = wrap_add(a, v); break;  // Sum, Mean, LogSum
    }
  });
  T* y = out.data<T>();
  for (size_t o = 0; o < acc.size(); ++o) {
    if constexpr (integral) {
      y[o] = static_cast<T>(acc[o]);
    } else {
      double r = acc[o];
      if (op == OpKind::ReduceMean) r /= double(count);
      if (op == OpKind::ReduceL2) r = std::sqrt(r);
      if (op == OpKind::ReduceLogSum) r = std::log(r);
      if (op == OpKind::ReduceLogSumExp) r = std::log(r) + shift[o];
      y[o] = from_double<T>(r);
    }
  }
}

void reference_reduce(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& x = k.in(0);
  const auto reduced =
      reduced_axes(n, x.rank(), k.has_input(1), k.has_input(1) ? &k.in(1) : nullptr);
  // Reductions whose result is not an integer combination of the inputs go through double.
  const bool exact_integer = n.op != OpKind::ReduceMean && n.op != OpKind::ReduceL2 &&
                             n.op != OpKind::ReduceLogSum && n.op != OpKind::ReduceLogSumExp;
  visit_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      node_error(n, "{} does not take bool", op_name(n.op));
    } else if constexpr (std::is_integral_v<T>) {
      using Exact = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
      if (exact_integer)
        reduce<T, Exact>(n, x, *reduced, k.out(0));
      else
        reduce<T, double>(n, x, *reduced, k.out(0));
    } else {
      reduce<T, double>(n, x, *reduced, k.out(0));
    }
  });
}

// --- ArgMax / ArgMin ---------------------------------------------------------------------------
std::vector<TensorType> infer_arg(InferContext& c) {
  const TensorType& in = c.in(0);
  if (!is_float(in.dtype) && !is_integer(in.dtype))
    node_error(c.node, "input 0 has type {}; {} takes numbers", dtype_name(in.dtype),
               op_name(c.node.op));
  if (!in.shape.rank_known) return {TensorType{DType::I64, Shape::unknown_rank()}};
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), in.rank());
  std::vector<Dim> dims = in.shape.dims;
  if (dims[size_t(axis)] == Dim(0))
    node_error(c.node, "cannot take {} over an empty axis {}", op_name(c.node.op), axis);
  if (attr_int(c.node, "keepdims"))
    dims[size_t(axis)] = Dim(1);
  else
    dims.erase(dims.begin() + axis);
  return {TensorType{DType::I64, Shape(dims)}};
}

template <typename T>
auto compare_key(T v) {  // 16-bit floats compare as float; everything else natively
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    return float(to_double(v));
  else
    return v;
}

void reference_arg(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), x.rank());
  const bool is_max = k.node.op == OpKind::ArgMax;
  const bool last = attr_int(k.node, "select_last_index") != 0;
  const int64_t n = x.dims()[size_t(axis)];
  const int64_t inner = product(std::span(x.dims()).subspan(size_t(axis) + 1));
  const int64_t outer = product(std::span(x.dims()).first(size_t(axis)));
  int64_t* y = k.out(0).data<int64_t>();
  visit_dtype(x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T* lane = in + o * n * inner + i;
        int64_t best = 0;
        for (int64_t j = 1; j < n; ++j) {
          const auto v = compare_key(lane[j * inner]), b = compare_key(lane[best * inner]);
          const bool better = is_max ? v > b : v < b;
          if (better || (last && v == b)) best = j;
        }
        y[o * inner + i] = best;
      }
  });
}

// --- schema ------------------------------------------------------------------------------------
OpDef reduce_op(OpKind kind, std::string_view onnx_name, int axes_input_since) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .min_inputs = 1,
               .max_inputs = 2,
               .attrs = {AttrSpec{"keepdims", AttrType::Int, int64_t{1}},
                         AttrSpec{"noop_with_empty_axes", AttrType::Int, int64_t{0}}},
               .infer = infer_reduce,
               .reference = reference_reduce,
               .legacy = {{.before = axes_input_since, .attr = "axes", .input = 1}}};
}

OpDef arg_op(OpKind kind, std::string_view onnx_name) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{0}},
                         AttrSpec{"keepdims", AttrType::Int, int64_t{1}},
                         AttrSpec{"select_last_index", AttrType::Int, int64_t{0}}},
               .infer = infer_arg,
               .reference = reference_arg};
}

}  // namespace

extern const OpDef kReduceSum = reduce_op(OpKind::ReduceSum, "ReduceSum", 13);
extern const OpDef kReduceMean = reduce_op(OpKind::ReduceMean, "ReduceMean", 18);
extern const OpDef kReduceMax = reduce_op(OpKind::ReduceMax, "ReduceMax", 18);
extern const OpDef kReduceMin = reduce_op(OpKind::ReduceMin, "ReduceMin", 18);
extern const OpDef kReduceProd = reduce_op(OpKind::ReduceProd, "ReduceProd", 18);
extern const OpDef kReduceL1 = reduce_op(OpKind::ReduceL1, "ReduceL1", 18);
extern const OpDef kReduceL2 = reduce_op(OpKind::ReduceL2, "ReduceL2", 18);
extern const OpDef kReduceLogSum = reduce_op(OpKind::ReduceLogSum, "ReduceLogSum", 18);
extern const OpDef kReduceLogSumExp = reduce_op(OpKind::ReduceLogSumExp, "ReduceLogSumExp", 18);
extern const OpDef kReduceSumSquare = reduce_op(OpKind::ReduceSumSquare, "ReduceSumSquare", 18);
extern const OpDef kArgMax = arg_op(OpKind::ArgMax, "ArgMax");
extern const OpDef kArgMin = arg_op(OpKind::ArgMin, "ArgMin");

}  // namespace nnc
