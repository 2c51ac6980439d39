// ops/scatter.cpp — the scatters: a copy of `data` with some elements replaced (or combined,
// per `reduction`) by `updates`. https://onnx.ai/onnx/operators/
//   ScatterND        (opsets 11, 13, 16 reduction add/mul, 18 max/min): the last axis of
//                    `indices` is a coordinate tuple naming a slice of data; updates has shape
//                    indices.shape[:-1] + data.shape[tuple:].
//   ScatterElements  (opsets 11, 13, 16, 18): indices and updates share a shape; element e goes
//                    to data at e's own coordinates, except along `axis`, where the index value
//                    is the coordinate. ONNX's deprecated `Scatter` (opsets 9, 10) is the same op
//                    without reduction; the importer maps it here.
// Updates apply in order, so with reduction=none a repeated index keeps the last update (ONNX
// leaves duplicates undefined there). Integer add/mul wrap like numpy; floats combine in double.
#include <algorithm>
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

enum class Reduction { None, Add, Mul, Max, Min };

Reduction reduction_of(const Node& n) {
  const std::string r = attr_string(n, "reduction");
  if (r == "none") return Reduction::None;
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  node_error(n, "reduction '{}' is not one of none, add, mul, max, min", r);
}

template <typename T>
T combine(Reduction r, T old, T update) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    switch (r) {
      case Reduction::None:
        return update;
      case Reduction::Add:
        return T(uint64_t(old) + uint64_t(update));
      case Reduction::Mul:
        return T(uint64_t(old) * uint64_t(update));
      case Reduction::Max:
        return std::max(old, update);
      case Reduction::Min:
        return std::min(old, update);
    }
  } else {
    const double a = to_double(old), b = to_double(update);
    switch (r) {
      case Reduction::None:
        return update;
      case Reduction::Add:
        return from_double<T>(a + b);
      case Reduction::Mul:
        return from_double<T>(a * b);
      case Reduction::Max:
        return from_double<T>(std::max(a, b));
      case Reduction::Min:
        return from_double<T>(std::min(a, b));
    }
  }
  return update;
}

int64_t checked_index(const Node& n, int64_t index, int64_t dim, int axis) {
  if (index < -dim || index >= dim)
    node_error(n, "index {} is out of range for axis {} of size {}", index, axis, dim);
  return index < 0 ? index + dim : index;
}

void check_data_updates(const Node& n, const TensorType& data, const TensorType& updates) {
  if (updates.dtype != data.dtype)
    node_error(n, "updates are {} but data is {}", dtype_name(updates.dtype),
               dtype_name(data.dtype));
}

// Applies update element u to data element d, for each (d, u) pair, in order.
void apply(const Node& n, const std::vector<std::pair<int64_t, int64_t>>& pairs,
           const Tensor& updates, Tensor& y) {
  const Reduction r = reduction_of(n);
  visit_dtype(y.dtype(), [&]<typename T>() {
    T* out = reinterpret_cast<T*>(y.bytes());
    const T* in = reinterpret_cast<const T*>(updates.bytes());
    for (const auto& [d, u] : pairs) out[d] = combine(r, out[d], in[u]);
  });
}

// --- ScatterND --------------------------------------------------------------------------------
std::vector<TensorType> infer_scatter_nd(InferContext& c) {
  const TensorType& data = c.in(0);
  const TensorType& indices = c.in(1);
  const TensorType& updates = c.in(2);
  reduction_of(c.node);
  expect_dtype(c.node, 1, indices.dtype, {DType::I64});
  check_data_updates(c.node, data, updates);
  if (!data.shape.rank_known || !indices.shape.rank_known || !updates.shape.rank_known)
    return {data};
  if (indices.rank() < 1) node_error(c.node, "indices must have rank >= 1");
  const Dim& tuple = indices.shape.dims.back();
  if (!tuple.known()) return {data};
  if (tuple.value > data.rank())
    node_error(c.node, "indices hold tuples of {} coordinates but data {} has rank {}", tuple.value,
               to_string(data), data.rank());
  std::vector<Dim> expected(indices.shape.dims.begin(), indices.shape.dims.end() - 1);
  expected.insert(expected.end(), data.shape.dims.begin() + tuple.value, data.shape.dims.end());
  bool match = int(expected.size()) == updates.rank();
  for (size_t d = 0; match && d < expected.size(); ++d) {
    const Dim &e = expected[d], &u = updates.shape.dims[d];
    match = !(e.known() && u.known() && e.value != u.value);
  }
  if (!match)
    node_error(c.node,
               "updates {} must have shape {} (indices' leading dims, then data's trailing dims)",
               to_string(updates), to_string(Shape(expected)));
  return {data};
}

void scatter_nd(KernelContext& k) {
  const Tensor& data = k.in(0);
  Tensor& y = k.out(0);
  std::memcpy(y.bytes(), data.bytes(), data.nbytes());
  const Dims& dims = data.dims();
  const int64_t tuple = k.in(1).dims().back();
  const std::vector<int64_t> indices = k.in(1).to_int_vector();
  const Dims strides = strides_of(dims);
  const int64_t slice = product(std::span(dims).subspan(size_t(tuple)));
  std::vector<std::pair<int64_t, int64_t>> pairs;
  const int64_t tuples = product(std::span(k.in(1).dims()).first(k.in(1).dims().size() - 1));
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t offset = 0;
    for (int64_t j = 0; j < tuple; ++j)
      offset += checked_index(k.node, indices[size_t(t * tuple + j)], dims[size_t(j)], int(j)) *
                strides[size_t(j)];
    for (int64_t s = 0; s < slice; ++s) pairs.emplace_back(offset + s, t * slice + s);
  }
  apply(k.node, pairs, k.in(2), y);
}

// --- ScatterElements --------------------------------------------------------------------------
std::vector<TensorType> infer_scatter_elements(InferContext& c) {
  const TensorType& data = c.in(0);
  const TensorType& indices = c.in(1);
  const TensorType& updates = c.in(2);
  reduction_of(c.node);
  expect_dtype(c.node, 1, indices.dtype, {DType::I32, DType::I64});
  check_data_updates(c.node, data, updates);
  if (!data.shape.rank_known || !indices.shape.rank_known) return {data};
  if (data.rank() != indices.rank())
    node_error(c.node, "data {} and indices {} must have the same rank", to_string(data),
               to_string(indices));
  if (data.rank() == 0)
    node_error(c.node, "data is a scalar; ScatterElements needs at least one axis");
  normalize_axis(c.node, attr_int(c.node, "axis"), data.rank());
  if (updates.shape.rank_known && indices.shape.fully_known() && updates.shape.fully_known() &&
      indices.shape != updates.shape)
    node_error(c.node, "updates {} must have the shape of indices {}", to_string(updates),
               to_string(indices));
  return {data};
}

void scatter_elements(KernelContext& k) {
  const Tensor& data = k.in(0);
  const Tensor& indices = k.in(1);
  Tensor& y = k.out(0);
  std::memcpy(y.bytes(), data.bytes(), data.nbytes());
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), data.rank());
  const Dims& dims = data.dims();
  const Dims& index_dims = indices.dims();
  const int rank = data.rank();
  for (int d = 0; d < rank; ++d)
    if (d != axis && index_dims[size_t(d)] > dims[size_t(d)])
      node_error(k.node, "indices {} are larger than data {} along axis {}", to_string(index_dims),
                 to_string(dims), d);
  const Dims strides = strides_of(dims);
  const std::vector<int64_t> values = indices.to_int_vector();
  std::vector<std::pair<int64_t, int64_t>> pairs;
  std::vector<int64_t> coord(size_t(rank), 0);
  for (size_t e = 0; e < values.size(); ++e) {
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d)
      offset +=
          (d == axis ? checked_index(k.node, values[e], dims[size_t(d)], axis) : coord[size_t(d)]) *
          strides[size_t(d)];
    pairs.emplace_back(offset, int64_t(e));
    for (int d = rank - 1; d >= 0; --d) {  // next coordinate in the indices
      if (++coord[size_t(d)] < index_dims[size_t(d)]) break;
      coord[size_t(d)] = 0;
    }
  }
  apply(k.node, pairs, k.in(2), y);
}

}  // namespace

extern const OpDef kScatterND{
    .kind = OpKind::ScatterND,
    .onnx_name = "ScatterND",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {AttrSpec{"reduction", AttrType::String, std::string("none")}},
    .infer = infer_scatter_nd,
    .reference = scatter_nd};

extern const OpDef kScatterElements{
    .kind = OpKind::ScatterElements,
    .onnx_name = "ScatterElements",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{0}},
              AttrSpec{"reduction", AttrType::String, std::string("none")}},
    .infer = infer_scatter_elements,
    .reference = scatter_elements};

}  // namespace nnc
