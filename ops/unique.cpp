// ops/unique.cpp — Unique: the distinct elements (or, with `axis`, the distinct slices along an
// axis) of a tensor, with where each first occurs, where each input element went, and how often
// each occurs. ONNX opset 11. https://onnx.ai/onnx/operators/onnx__Unique.html
//
// Outputs: Y (the unique values; flattened without axis), indices (first occurrence in the
// input), inverse_indices (for every input element or slice, its row in Y), counts.
// sorted=1 orders Y ascending (slices lexicographically, in row-major order of their elements,
// as numpy.unique does); sorted=0 keeps the order of first occurrence.
//
// Y's size depends on the data, so inference knows it only for a constant input; otherwise the
// unique dim is unknown. NaN compares equal to NaN and above every number (numpy's equal_nan).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "ops/op_def.h"

namespace nnc {
namespace {

// The input as [outer, n, inner]: n slices of outer*inner elements each (n = all elements and
// outer = inner = 1 without an axis).
struct Slices {
  int64_t outer = 1, n = 0, inner = 1;
};

std::optional<int> axis_of(const Node& node, int rank) {
  if (!node.has_attr("axis")) return std::nullopt;
  return normalize_axis(node, attr_int(node, "axis"), rank);
}

Slices slices_of(const Node& node, const Dims& dims) {
  const std::optional<int> axis = axis_of(node, int(dims.size()));
  if (!axis) return {1, product(dims), 1};
  const std::span<const int64_t> all(dims);
  return {product(all.first(size_t(*axis))), dims[size_t(*axis)], product(all.subspan(size_t(*axis) + 1))};
}

struct UniqueResult {
  std::vector<int64_t> first;    // per unique slice: its first index in the input
  std::vector<int64_t> inverse;  // per input slice: its unique slice
  std::vector<int64_t> counts;   // per unique slice
};

// -1, 0, 1 as a is below, equal to or above b; NaN is above every number and equals NaN.
template <typename T>
int compare_values(T a, T b) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
    return compare_values(float(to_double(a)), float(to_double(b)));
  } else {
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(a) || std::isnan(b)) return int(std::isnan(a)) - int(std::isnan(b));
    return a < b ? -1 : b < a ? 1 : 0;
  }
}

template <typename T>
UniqueResult unique_slices(const Tensor& x, const Slices& s, bool sorted) {
  const T* data = x.data<T>();
  auto compare = [&](int64_t a, int64_t b) {  // slices a and b, element by element
    for (int64_t o = 0; o < s.outer; ++o)
      for (int64_t i = 0; i < s.inner; ++i)
        if (int c = compare_values(data[(o * s.n + a) * s.inner + i], data[(o * s.n + b) * s.inner + i])) return c;
    return 0;
  };
  // Sorting by (slice, index) puts equal slices together, the first occurrence first.
  std::vector<int64_t> order(static_cast<size_t>(s.n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
  UniqueResult r;
  r.inverse.resize(size_t(s.n));
  for (size_t k = 0; k < order.size(); ++k) {
    if (k == 0 || compare(order[k - 1], order[k]) != 0) {
      r.first.push_back(order[k]);
      r.counts.push_back(0);
    }
    r.inverse[size_t(order[k])] = int64_t(r.first.size()) - 1;
    ++r.counts.back();
  }
  if (sorted) return r;
  // Renumber the groups by first occurrence.
  std::vector<int64_t> by_occurrence(r.first.size()), rank_of(r.first.size());
  std::iota(by_occurrence.begin(), by_occurrence.end(), int64_t{0});
  std::sort(by_occurrence.begin(), by_occurrence.end(),
            [&](int64_t a, int64_t b) { return r.first[size_t(a)] < r.first[size_t(b)]; });
  UniqueResult renumbered{{}, std::move(r.inverse), {}};
  for (size_t g = 0; g < by_occurrence.size(); ++g) {
    rank_of[size_t(by_occurrence[g])] = int64_t(g);
    renumbered.first.push_back(r.first[size_t(by_occurrence[g])]);
    renumbered.counts.push_back(r.counts[size_t(by_occurrence[g])]);
  }
  for (int64_t& group : renumbered.inverse) group = rank_of[size_t(group)];
  return renumbered;
}

UniqueResult unique_of(const Node& node, const Tensor& x) {
  const Slices s = slices_of(node, x.dims());
  const bool sorted = attr_int(node, "sorted") != 0;
  return visit_dtype(x.dtype(), [&]<typename T>() { return unique_slices<T>(x, s, sorted); });
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  const Node& n = c.node;
  if (!x.shape.rank_known) {
    const Shape vector(std::vector<Dim>{Dim()});
    return {{x.dtype, Shape::unknown_rank()}, {DType::I64, vector}, {DType::I64, vector}, {DType::I64, vector}};
  }
  const std::optional<int> axis = axis_of(n, x.rank());
  Dim unique;
  if (const Tensor* value = c.value(0)) unique = Dim(int64_t(unique_of(n, *value).first.size()));
  Shape y(std::vector<Dim>{unique});
  Dim slices;
  if (axis) {
    y = x.shape;
    y.dims[size_t(*axis)] = unique;
    slices = x.shape.dims[size_t(*axis)];
  } else if (x.shape.fully_known()) {
    slices = Dim(product(x.shape.concrete()));
  }
  const Shape per_unique(std::vector<Dim>{unique});
  return {{x.dtype, y},
          {DType::I64, per_unique},
          {DType::I64, Shape(std::vector<Dim>{slices})},
          {DType::I64, per_unique}};
}

void write(Tensor& t, const std::vector<int64_t>& values) {
  std::copy(values.begin(), values.end(), t.data<int64_t>());
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const UniqueResult r = unique_of(k.node, x);
  const Slices s = slices_of(k.node, x.dims());
  // Y gathers the first occurrence of each unique slice, a contiguous inner block at a time.
  const size_t block = size_t(s.inner) * dtype_size(x.dtype());
  const int64_t u = int64_t(r.first.size());
  for (int64_t o = 0; o < s.outer; ++o)
    for (int64_t g = 0; g < u; ++g)
      std::memcpy(k.out(0).bytes() + size_t(o * u + g) * block, x.bytes() + size_t(o * s.n + r.first[size_t(g)]) * block,
                  block);
  if (k.outputs.size() > 1) write(k.out(1), r.first);
  if (k.outputs.size() > 2) write(k.out(2), r.inverse);
  if (k.outputs.size() > 3) write(k.out(3), r.counts);
}

}  // namespace

extern const OpDef kUnique{.kind = OpKind::Unique,
                           .onnx_name = "Unique",
                           .min_outputs = 1,
                           .max_outputs = 4,
                           .attrs = {AttrSpec{.name = "axis", .type = AttrType::Int, .optional = true},
                                     AttrSpec{"sorted", AttrType::Int, int64_t{1}}},
                           .infer = infer,
                           .reference = reference,
                           .since_opset = 11};

}  // namespace nnc
