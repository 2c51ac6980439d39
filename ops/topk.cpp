// ops/topk.cpp — TopK: the k largest (or smallest) elements along an axis, with their int64
// indices. ONNX opsets 1, 10 (k became an input; the importer converts the old attribute),
// 11 (largest, sorted, negative axis). https://onnx.ai/onnx/operators/onnx__TopK.html
//
// Ties go to the lower index, as the spec requires; NaN counts as larger than every number (so
// it comes first when largest=1), which is what numpy's sort does. With sorted=0 the order is
// unspecified, so sorted output is as good as any.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/op_def.h"

namespace nnc {
namespace {

int64_t k_value(const Node& n, const Tensor& k) {
  if (k.numel() != 1) node_error(n, "input 1 (K) must hold one value, got {} values", k.numel());
  const int64_t value = k.get_int(0);
  if (value < 0) node_error(n, "K is {}; it must not be negative", value);
  return value;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype) && !is_integer(x.dtype))
    node_error(c.node, "input 0 has type {}; TopK takes numbers", dtype_name(x.dtype));
  if (c.in(1).dtype != DType::I64)
    node_error(c.node, "input 1 (K) has type {}; it must be i64", dtype_name(c.in(1).dtype));
  if (!x.shape.rank_known)
    return {TensorType{x.dtype, Shape::unknown_rank()},
            TensorType{DType::I64, Shape::unknown_rank()}};
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), x.rank());
  Shape shape = x.shape;
  Dim& d = shape.dims[size_t(axis)];
  if (const Tensor* k = c.value(1)) {
    const int64_t kv = k_value(c.node, *k);
    if (d.known() && kv > d.value)
      node_error(c.node, "K is {} but axis {} has only {} elements", kv, axis, d.value);
    d = Dim(kv);
  } else {
    d = Dim();  // K is computed at run time
  }
  return {TensorType{x.dtype, shape}, TensorType{DType::I64, shape}};
}

template <typename T>
void top_k(const Node& node, const Tensor& x, int axis, int64_t k, Tensor& values,
           Tensor& indices) {
  const bool largest = attr_int(node, "largest") != 0;
  const int64_t n = x.dims()[size_t(axis)];
  const int64_t inner = product(std::span(x.dims()).subspan(size_t(axis) + 1));
  const int64_t outer = product(std::span(x.dims()).first(size_t(axis)));
  const T* in = x.data<T>();
  T* out_values = values.data<T>();
  int64_t* out_indices = indices.data<int64_t>();
  // Integers compare natively (int64 is not exact in double); 16-bit floats as float.
  auto value_of = [](T v) {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
      return float(to_double(v));
    else
      return v;
  };
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T* lane = in + o * n * inner + i;
      auto before = [&](int64_t a, int64_t b) {  // should index a come before index b?
        const auto va = value_of(lane[a * inner]), vb = value_of(lane[b * inner]);
        if constexpr (std::is_floating_point_v<decltype(va)>) {
          if (std::isnan(va) || std::isnan(vb)) {
            if (std::isnan(va) && std::isnan(vb)) return a < b;
            return std::isnan(va) == largest;  // NaN is the largest value
          }
        }
        if (va != vb) return largest ? va > vb : va < vb;
        return a < b;
      };
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      for (int64_t j = 0; j < k; ++j) {
        const int64_t out = (o * k + j) * inner + i;
        out_values[out] = lane[order[size_t(j)] * inner];
        out_indices[out] = order[size_t(j)];
      }
    }
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), x.rank());
  const int64_t kv = k_value(k.node, k.in(1));
  if (kv > x.dims()[size_t(axis)])
    node_error(k.node, "K is {} but axis {} has only {} elements", kv, axis,
               x.dims()[size_t(axis)]);
  visit_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>)
      node_error(k.node, "TopK does not take bool");
    else
      top_k<T>(k.node, x, axis, kv, k.out(0), k.out(1));
  });
}

}  // namespace

extern const OpDef kTopK{
    .kind = OpKind::TopK,
    .onnx_name = "TopK",
    .min_inputs = 2,
    .max_inputs = 2,
    .min_outputs = 2,
    .max_outputs = 2,
    .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{-1}},
              AttrSpec{"largest", AttrType::Int, int64_t{1}},
              AttrSpec{"sorted", AttrType::Int, int64_t{1}}},
    .infer = infer,
    .reference = reference,
    .legacy = {{.before = 10, .attr = "k", .input = 1}},
};

}  // namespace nnc
