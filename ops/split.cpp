// ops/split.cpp — Split: cuts a tensor along `axis` into one piece per output.
// ONNX opsets 2, 11, 13 (`split` sizes became an input), 18 (num_outputs).
// https://onnx.ai/onnx/operators/onnx__Split.html
//
// The piece sizes come from, in order of precedence:
//   - the `split` input: one size per output, summing to the dim;
//   - num_outputs (opset 18): ceil(dim / n) each, the last piece taking what is left;
//   - the number of outputs (opsets < 18): equal pieces, so the dim must divide evenly.
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

// Sizes of the pieces along an axis of known size `dim`.
std::vector<int64_t> piece_sizes(const Node& n, int64_t dim, const Tensor* split) {
  const int64_t outputs = int64_t(n.outputs.size());
  if (split) {
    if (split->dtype() != DType::I64 || split->rank() != 1)
      node_error(n, "input 1 (split) must be a 1-D i64 tensor, not {}", to_string(split->type()));
    std::vector<int64_t> sizes = split->to_int_vector();
    if (int64_t(sizes.size()) != outputs)
      node_error(n, "split [{}] has {} sizes but the node has {} outputs", fmt::join(sizes, ","),
                 sizes.size(), outputs);
    int64_t sum = 0;
    for (int64_t s : sizes) {
      if (s < 0) node_error(n, "split [{}] has a negative size", fmt::join(sizes, ","));
      // Each size at most the axis, so the running sum stays far from overflowing (a fuzzed
      // split of INT64_MAX and 1 wrapped around).
      if (s > dim) node_error(n, "split [{}] has a piece of {} on an axis of size {}", fmt::join(sizes, ","), s, dim);
      sum += s;
    }
    if (sum != dim)
      node_error(n, "split [{}] sums to {} but the axis has size {}", fmt::join(sizes, ","), sum,
                 dim);
    return sizes;
  }
  if (n.has_attr("num_outputs")) {
    const int64_t count = attr_int(n, "num_outputs");
    if (count != outputs)
      node_error(n, "num_outputs is {} but the node has {} outputs", count, outputs);
    const int64_t chunk = dim / count + (dim % count != 0);  // ceil, without dim + count overflowing
    const int64_t last = dim - chunk * (count - 1);
    if (last < 0)
      node_error(n,
                 "an axis of size {} cannot be split into {} pieces of {} (the last would be {})",
                 dim, count, chunk, last);
    std::vector<int64_t> sizes(size_t(count), chunk);
    sizes.back() = last;
    return sizes;
  }
  if (dim % outputs != 0)
    node_error(n, "an axis of size {} does not split evenly into {} outputs; give `split` sizes",
               dim, outputs);
  return std::vector<int64_t>(size_t(outputs), dim / outputs);
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  const size_t outputs = c.node.outputs.size();
  if (c.node.has_attr("num_outputs") && attr_int(c.node, "num_outputs") < 1)
    node_error(c.node, "num_outputs is {}; it must be at least 1", attr_int(c.node, "num_outputs"));
  if (!x.shape.rank_known) return std::vector<TensorType>(outputs, x);
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), x.rank());
  const Dim& dim = x.shape.dims[size_t(axis)];
  std::vector<TensorType> out(outputs, x);
  const bool split_unknown = c.has_input(1) && !c.value(1);
  if (!dim.known() || split_unknown) {
    if (outputs > 1 || split_unknown)
      for (TensorType& t : out) t.shape.dims[size_t(axis)] = Dim();
    return out;
  }
  const std::vector<int64_t> sizes = piece_sizes(c.node, dim.value, c.value(1));
  for (size_t i = 0; i < outputs; ++i) out[i].shape.dims[size_t(axis)] = Dim(sizes[i]);
  return out;
}

// Each output takes, for every index over the dims before the axis, its block of the input.
void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), x.rank());
  const int64_t outer = product(std::span(x.dims()).first(size_t(axis)));
  const size_t input_block =
      size_t(product(std::span(x.dims()).subspan(size_t(axis)))) * dtype_size(x.dtype());
  size_t offset = 0;  // bytes into each input block where the current output's part starts
  for (Tensor& y : k.outputs) {
    const size_t block = y.nbytes() / size_t(std::max<int64_t>(outer, 1));
    if (block > 0)
      for (int64_t o = 0; o < outer; ++o)
        std::memcpy(y.bytes() + size_t(o) * block, x.bytes() + size_t(o) * input_block + offset,
                    block);
    offset += block;
  }
}

}  // namespace

extern const OpDef kSplit{
    .kind = OpKind::Split,
    .onnx_name = "Split",
    .max_inputs = 2,
    .max_outputs = 1 << 16,
    .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{0}},
              AttrSpec{.name = "num_outputs", .type = AttrType::Int, .optional = true}},
    .infer = infer,
    .reference = reference,
    .legacy = {{.before = 13, .attr = "split", .input = 1}},
};

}  // namespace nnc
