// ops/gather.cpp — the three gathers. https://onnx.ai/onnx/operators/
//   Gather          (opsets 1, 11, 13)  whole slices along `axis`, picked by an index tensor:
//                   out[a.., i.., b..] = data[a.., indices[i..], b..]
//   GatherElements  (opsets 11, 13)     one element per index, indices shaped like the output:
//                   out[i][j] = data[indices[i][j]][j] (axis 0)
//   GatherND        (opsets 11, 12 batch_dims, 13)  the last axis of indices is a coordinate
//                   tuple into data after `batch_dims` leading axes shared by both.
// Negative indices count from the end; an index out of range is an error naming the node
// (ONNX leaves it undefined; reading past the buffer is not an option).
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

void expect_index_type(const Node& n, DType t) { expect_dtype(n, 1, t, {DType::I32, DType::I64}); }

// An index checked against an axis of size `dim`, negative values counting from the end.
int64_t checked_index(const Node& n, int64_t index, int64_t dim, int axis) {
  if (index < -dim || index >= dim)
    node_error(n, "index {} is out of range for axis {} of size {}", index, axis, dim);
  return index < 0 ? index + dim : index;
}

// --- Gather -----------------------------------------------------------------------------------
std::vector<TensorType> infer_gather(InferContext& c) {
  const TensorType& data = c.in(0);
  const TensorType& indices = c.in(1);
  expect_index_type(c.node, indices.dtype);
  if (!data.shape.rank_known || !indices.shape.rank_known)
    return {{data.dtype, Shape::unknown_rank()}};
  if (data.rank() == 0) node_error(c.node, "input 0 is a scalar; Gather needs at least one axis");
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), data.rank());
  std::vector<Dim> out(data.shape.dims.begin(), data.shape.dims.begin() + axis);
  out.insert(out.end(), indices.shape.dims.begin(), indices.shape.dims.end());
  out.insert(out.end(), data.shape.dims.begin() + axis + 1, data.shape.dims.end());
  return {{data.dtype, Shape(out)}};
}

void gather(KernelContext& k) {
  const Tensor& data = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), data.rank());
  const std::vector<int64_t> indices = k.in(1).to_int_vector();
  const int64_t dim = data.dims()[size_t(axis)];
  const int64_t outer = product(std::span(data.dims()).first(size_t(axis)));
  const size_t block =
      size_t(product(std::span(data.dims()).subspan(size_t(axis) + 1))) * dtype_size(data.dtype());
  std::byte* out = k.out(0).bytes();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t index : indices) {
      const int64_t i = checked_index(k.node, index, dim, axis);
      if (block > 0) std::memcpy(out, data.bytes() + (size_t(o * dim + i)) * block, block);
      out += block;
    }
}

// --- GatherElements ---------------------------------------------------------------------------
std::vector<TensorType> infer_gather_elements(InferContext& c) {
  const TensorType& data = c.in(0);
  const TensorType& indices = c.in(1);
  expect_index_type(c.node, indices.dtype);
  if (!data.shape.rank_known || !indices.shape.rank_known) return {{data.dtype, indices.shape}};
  if (data.rank() != indices.rank())
    node_error(c.node, "data {} and indices {} must have the same rank", to_string(data),
               to_string(indices));
  if (data.rank() == 0)
    node_error(c.node, "input 0 is a scalar; GatherElements needs at least one axis");
  normalize_axis(c.node, attr_int(c.node, "axis"), data.rank());
  return {{data.dtype, indices.shape}};
}

// Data offset of each element of an indices-shaped tensor: its own coordinates, except along
// `axis`, where the index value is the coordinate.
std::vector<int64_t> element_offsets(const Node& n, const Dims& data_dims, const Tensor& indices,
                                     int axis) {
  const int rank = int(data_dims.size());
  const Dims& dims = indices.dims();
  for (int d = 0; d < rank; ++d)
    if (d != axis && dims[size_t(d)] > data_dims[size_t(d)])
      node_error(n, "indices {} are larger than data {} along axis {}", to_string(dims),
                 to_string(data_dims), d);
  const Dims strides = strides_of(data_dims);
  const std::vector<int64_t> values = indices.to_int_vector();
  std::vector<int64_t> offsets(values.size());
  std::vector<int64_t> coord(size_t(rank), 0);
  for (size_t e = 0; e < values.size(); ++e) {
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d)
      offset +=
          (d == axis ? checked_index(n, values[e], data_dims[size_t(d)], axis) : coord[size_t(d)]) *
          strides[size_t(d)];
    offsets[e] = offset;
    for (int d = rank - 1; d >= 0; --d) {  // next coordinate in the indices
      if (++coord[size_t(d)] < dims[size_t(d)]) break;
      coord[size_t(d)] = 0;
    }
  }
  return offsets;
}

void gather_elements(KernelContext& k) {
  const Tensor& data = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), data.rank());
  const std::vector<int64_t> offsets = element_offsets(k.node, data.dims(), k.in(1), axis);
  const size_t element = dtype_size(data.dtype());
  for (size_t e = 0; e < offsets.size(); ++e)
    std::memcpy(k.out(0).bytes() + e * element, data.bytes() + size_t(offsets[e]) * element,
                element);
}

// --- GatherND ---------------------------------------------------------------------------------
std::vector<TensorType> infer_gather_nd(InferContext& c) {
  const TensorType& data = c.in(0);
  const TensorType& indices = c.in(1);
  expect_dtype(c.node, 1, indices.dtype, {DType::I64});
  if (!data.shape.rank_known || !indices.shape.rank_known)
    return {{data.dtype, Shape::unknown_rank()}};
  const int64_t batch_dims = attr_int(c.node, "batch_dims");
  const int r = data.rank(), q = indices.rank();
  if (q < 1 || r < 1)
    node_error(c.node, "data {} and indices {} must both have rank >= 1", to_string(data),
               to_string(indices));
  if (batch_dims < 0 || batch_dims >= std::min(q, r))
    node_error(c.node, "batch_dims {} must be in [0, {})", batch_dims, std::min(q, r));
  const Dim& last = indices.shape.dims.back();
  if (!last.known()) return {{data.dtype, Shape::unknown_rank()}};
  if (last.value < 1 || last.value > r - batch_dims)
    node_error(
        c.node,
        "indices {} hold tuples of {} coordinates but data {} has {} axes after batch_dims {}",
        to_string(indices), last.value, to_string(data), r - batch_dims, batch_dims);
  for (int d = 0; d < batch_dims; ++d) {
    const Dim &a = data.shape.dims[size_t(d)], &b = indices.shape.dims[size_t(d)];
    if (a.known() && b.known() && a.value != b.value)
      node_error(c.node, "batch axis {} is {} in data but {} in indices", d, a.value, b.value);
  }
  std::vector<Dim> out(indices.shape.dims.begin(), indices.shape.dims.end() - 1);
  out.insert(out.end(), data.shape.dims.begin() + batch_dims + last.value, data.shape.dims.end());
  return {{data.dtype, Shape(out)}};
}

void gather_nd(KernelContext& k) {
  const Tensor& data = k.in(0);
  const Dims& dims = data.dims();
  const int batch_dims = int(attr_int(k.node, "batch_dims"));
  const int64_t tuple = k.in(1).dims().back();
  const std::vector<int64_t> indices = k.in(1).to_int_vector();
  const int64_t batches = product(std::span(dims).first(size_t(batch_dims)));
  const int64_t batch_size = product(std::span(dims).subspan(size_t(batch_dims)));  // elements
  const int64_t tuples_per_batch = batches == 0 ? 0 : int64_t(indices.size()) / tuple / batches;
  const Dims strides = strides_of(dims);
  const size_t element = dtype_size(data.dtype());
  const size_t slice =
      size_t(product(std::span(dims).subspan(size_t(batch_dims + tuple)))) * element;
  std::byte* out = k.out(0).bytes();
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t t = 0; t < tuples_per_batch; ++t) {
      const int64_t* coords = indices.data() + (b * tuples_per_batch + t) * tuple;
      int64_t offset = b * batch_size;
      for (int64_t j = 0; j < tuple; ++j) {
        const int axis = batch_dims + int(j);
        offset +=
            checked_index(k.node, coords[j], dims[size_t(axis)], axis) * strides[size_t(axis)];
      }
      if (slice > 0) std::memcpy(out, data.bytes() + size_t(offset) * element, slice);
      out += slice;
    }
}

}  // namespace

extern const OpDef kGather{.kind = OpKind::Gather,
                           .onnx_name = "Gather",
                           .min_inputs = 2,
                           .max_inputs = 2,
                           .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{0}}},
                           .infer = infer_gather,
                           .reference = gather};

extern const OpDef kGatherElements{.kind = OpKind::GatherElements,
                                   .onnx_name = "GatherElements",
                                   .min_inputs = 2,
                                   .max_inputs = 2,
                                   .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{0}}},
                                   .infer = infer_gather_elements,
                                   .reference = gather_elements};

extern const OpDef kGatherND{.kind = OpKind::GatherND,
                             .onnx_name = "GatherND",
                             .min_inputs = 2,
                             .max_inputs = 2,
                             .attrs = {AttrSpec{"batch_dims", AttrType::Int, int64_t{0}}},
                             .infer = infer_gather_nd,
                             .reference = gather_nd};

}  // namespace nnc
