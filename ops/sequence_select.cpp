// ops/sequence_select.cpp — ops that pick or reorder slices along one axis per a data tensor.
//   ReverseSequence (opset 10): for each batch entry b, reverses the first sequence_lens[b]
//                   steps along time_axis and keeps the rest.
//   Compress        (opsets 9, 11): keeps the slices along `axis` whose condition is true; with
//                   no axis, the elements of the flattened input. A condition shorter than the
//                   axis drops the slices past its end; a longer one may only hold false there
//                   (numpy's rule). The output size depends on the condition's values, so it is
//                   unknown until those are.
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

// --- ReverseSequence --------------------------------------------------------------------------
std::vector<TensorType> infer_reverse_sequence(InferContext& c) {
  const TensorType& x = c.in(0);
  expect_dtype(c.node, 1, c.in(1).dtype, {DType::I64});
  const int64_t time_axis = attr_int(c.node, "time_axis"),
                batch_axis = attr_int(c.node, "batch_axis");
  if (!((time_axis == 0 && batch_axis == 1) || (time_axis == 1 && batch_axis == 0)))
    node_error(c.node, "time_axis {} and batch_axis {} must be 0 and 1 in some order", time_axis,
               batch_axis);
  if (!x.shape.rank_known) return {x};
  if (x.rank() < 2) node_error(c.node, "input 0 {} must have rank >= 2", to_string(x));
  const Shape& lens = c.in(1).shape;
  const Dim& batch = x.shape.dims[size_t(batch_axis)];
  if (lens.rank_known && (lens.rank() != 1 || (lens.dims[0].known() && batch.known() &&
                                               lens.dims[0].value != batch.value)))
    node_error(c.node, "sequence_lens {} must be 1-D with one length per batch entry ({})",
               to_string(lens), to_string(Shape({batch})));
  return {x};
}

void reverse_sequence(KernelContext& k) {
  const Tensor& x = k.in(0);
  const bool time_first = attr_int(k.node, "time_axis") == 0;
  const std::vector<int64_t> lens = k.in(1).to_int_vector();
  const int64_t steps = x.dims()[time_first ? 0 : 1];
  const int64_t d0 = x.dims()[0], d1 = x.dims()[1];
  for (int64_t len : lens)
    if (len < 0 || len > steps)
      node_error(k.node, "sequence length {} is outside [0, {}]", len, steps);
  const size_t block = size_t(product(std::span(x.dims()).subspan(2))) * dtype_size(x.dtype());
  if (block == 0) return;
  for (int64_t i = 0; i < d0; ++i)
    for (int64_t j = 0; j < d1; ++j) {
      const int64_t t = time_first ? i : j, b = time_first ? j : i;
      const int64_t from_t = t < lens[size_t(b)] ? lens[size_t(b)] - 1 - t : t;
      const int64_t from = time_first ? from_t * d1 + j : i * d1 + from_t;
      std::memcpy(k.out(0).bytes() + size_t(i * d1 + j) * block, x.bytes() + size_t(from) * block,
                  block);
    }
}

// --- Compress ---------------------------------------------------------------------------------
// Indices of the kept slices along an axis of `size` slices.
std::vector<int64_t> kept(const Node& n, const Tensor& condition, int64_t size) {
  if (condition.dtype() != DType::Bool || condition.rank() != 1)
    node_error(n, "input 1 (condition) must be a 1-D bool tensor, not {}",
               to_string(condition.type()));
  const bool* flags = condition.data<bool>();
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < condition.numel(); ++i) {
    if (!flags[i]) continue;
    if (i >= size)
      node_error(n, "condition is true at {} but the axis has only {} slices", i, size);
    indices.push_back(i);
  }
  return indices;
}

std::vector<TensorType> infer_compress(InferContext& c) {
  const TensorType& x = c.in(0);
  expect_dtype(c.node, 1, c.in(1).dtype, {DType::Bool});
  const Tensor* condition = c.value(1);
  if (!c.node.has_attr("axis")) {
    const Shape& s = x.shape;
    if (!condition || !s.fully_known()) return {{x.dtype, Shape({Dim()})}};
    return {
        {x.dtype, Shape(Dims{int64_t(kept(c.node, *condition, product(s.concrete())).size())})}};
  }
  if (!x.shape.rank_known) return {{x.dtype, Shape::unknown_rank()}};
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), x.rank());
  TensorType out = x;
  const Dim& dim = x.shape.dims[size_t(axis)];
  out.shape.dims[size_t(axis)] =
      condition && dim.known() ? Dim(int64_t(kept(c.node, *condition, dim.value).size())) : Dim();
  return {out};
}

void compress(KernelContext& k) {
  const Tensor& x = k.in(0);
  const bool has_axis = k.node.has_attr("axis");
  const int axis = has_axis ? normalize_axis(k.node, attr_int(k.node, "axis"), x.rank()) : 0;
  // Without an axis, the flattened input is one axis of numel slices of one element.
  const Dims dims = has_axis ? x.dims() : Dims{x.numel()};
  const int64_t size = dims[size_t(axis)];
  const std::vector<int64_t> indices = kept(k.node, k.in(1), size);
  const int64_t outer = product(std::span(dims).first(size_t(axis)));
  const size_t block =
      size_t(product(std::span(dims).subspan(size_t(axis) + 1))) * dtype_size(x.dtype());
  if (block == 0) return;
  std::byte* out = k.out(0).bytes();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : indices) {
      std::memcpy(out, x.bytes() + size_t(o * size + i) * block, block);
      out += block;
    }
}

}  // namespace

extern const OpDef kReverseSequence{.kind = OpKind::ReverseSequence,
                                    .onnx_name = "ReverseSequence",
                                    .min_inputs = 2,
                                    .max_inputs = 2,
                                    .attrs = {AttrSpec{"batch_axis", AttrType::Int, int64_t{1}},
                                              AttrSpec{"time_axis", AttrType::Int, int64_t{0}}},
                                    .infer = infer_reverse_sequence,
                                    .reference = reverse_sequence};

extern const OpDef kCompress{
    .kind = OpKind::Compress,
    .onnx_name = "Compress",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {AttrSpec{.name = "axis", .type = AttrType::Int, .optional = true}},
    .infer = infer_compress,
    .reference = compress};

}  // namespace nnc
