// ops/max_unpool.cpp — MaxUnpool: the partial inverse of MaxPool. Scatters each pooled value to
// the position MaxPool took it from and zero-fills the rest. ONNX opsets 9, 11 (output_shape
// input), 22. https://onnx.ai/onnx/operators/onnx__MaxUnpool.html
//
// Inputs: X [N, C, d1, ...], I (int64, X's shape: MaxPool's Indices output, flat offsets into
// the whole output tensor), output_shape (optional, the full output shape; it resolves the size
// ambiguity of strided pooling). Without output_shape each spatial dim is
//   (in - 1) * stride + kernel - pad_begin - pad_end,
// and the indices always address a tensor of that default shape.
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

struct Window {
  std::vector<int64_t> kernel, strides, pads;  // pads: all begins, then all ends
};

Window window_of(const Node& n, int spatial) {
  Window w{attr_ints(n, "kernel_shape"), std::vector<int64_t>(size_t(spatial), 1),
           std::vector<int64_t>(size_t(2 * spatial), 0)};
  if (n.has_attr("strides")) w.strides = attr_ints(n, "strides");
  if (n.has_attr("pads")) w.pads = attr_ints(n, "pads");
  if (int(w.kernel.size()) != spatial)
    node_error(n, "kernel_shape has {} values but the input has {} spatial dims", w.kernel.size(), spatial);
  if (int(w.strides.size()) != spatial)
    node_error(n, "strides has {} values but the input has {} spatial dims", w.strides.size(), spatial);
  if (int(w.pads.size()) != 2 * spatial)
    node_error(n, "pads has {} values but {} spatial dims need {}", w.pads.size(), spatial, 2 * spatial);
  for (int i = 0; i < spatial; ++i)
    if (w.kernel[size_t(i)] <= 0 || w.strides[size_t(i)] <= 0 || w.pads[size_t(i)] < 0 || w.pads[size_t(spatial + i)] < 0)
      node_error(n, "spatial dim {} has kernel {}, stride {}, pads {} and {}; kernels and strides must be "
                 "positive and pads not negative", i, w.kernel[size_t(i)], w.strides[size_t(i)],
                 w.pads[size_t(i)], w.pads[size_t(spatial + i)]);
  return w;
}

// The output size of spatial dim i when no output_shape is given.
int64_t unpooled_size(const Node& n, const Window& w, int i, int64_t in) {
  const size_t spatial = w.kernel.size();
  // In 128 bits: attributes are any int64 a file holds (a fuzzed INT64_MAX kernel overflowed).
  const __int128 size = __int128(in - 1) * w.strides[size_t(i)] + w.kernel[size_t(i)] - w.pads[size_t(i)] -
                        w.pads[spatial + size_t(i)];
  if (size < 0) node_error(n, "spatial dim {} of the output would be negative", i);
  if (size > __int128(INT64_MAX) / 2) node_error(n, "spatial dim {} of the output would be over 2^62", i);
  return int64_t(size);
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype)) node_error(n, "input 0 has type {}; MaxUnpool takes float types", dtype_name(x.dtype));
  if (c.in(1).dtype != DType::I64) node_error(n, "input 1 (I) has type {}; it must be i64", dtype_name(c.in(1).dtype));
  if (c.in(1).shape.rank_known && x.shape.rank_known && c.in(1).shape.rank() != x.rank())
    node_error(n, "input 1 (I) is {} but X is {}; they must have the same shape", to_string(c.in(1).shape),
               to_string(x.shape));
  if (!x.shape.rank_known) return {{x.dtype, Shape::unknown_rank()}};
  if (x.rank() < 3) node_error(n, "input 0 has rank {}; MaxUnpool needs [N, C, d1, ...]", x.rank());
  const Window w = window_of(n, x.rank() - 2);
  if (c.has_input(2)) {
    if (c.in(2).dtype != DType::I64) node_error(n, "input 2 (output_shape) has type {}; it must be i64", dtype_name(c.in(2).dtype));
    const Tensor* shape = c.value(2);
    if (!shape) return {{x.dtype, Shape(std::vector<Dim>(size_t(x.rank())))}};
    const std::vector<int64_t> dims = shape->to_int_vector();
    if (int(dims.size()) != x.rank())
      node_error(n, "output_shape has {} values but the input has rank {}", dims.size(), x.rank());
    for (int64_t d : dims)
      if (d < 0) node_error(n, "output_shape {} has a negative dim", to_string(dims));
    return {{x.dtype, Shape(dims)}};
  }
  Shape out = x.shape;
  for (size_t i = 2; i < out.dims.size(); ++i)
    out.dims[i] = out.dims[i].known() ? Dim(unpooled_size(n, w, int(i) - 2, out.dims[i].value)) : Dim();
  return {{x.dtype, out}};
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const Tensor& indices = k.in(1);
  if (indices.dims() != x.dims())
    node_error(k.node, "input 1 (I) is {} but X is {}; they must have the same shape", to_string(indices.dims()),
               to_string(x.dims()));
  // Indices address the default-shaped output; an output_shape larger than that only adds
  // zeros after the end of each dim (onnxruntime and ONNX's test data agree), so re-encode each
  // index's coordinates in the actual output shape.
  Tensor& y = k.out(0);
  const Window w = window_of(k.node, x.rank() - 2);
  Dims unpooled = x.dims();
  for (size_t i = 2; i < unpooled.size(); ++i) unpooled[i] = unpooled_size(k.node, w, int(i) - 2, x.dims()[i]);
  const int64_t unpooled_numel = product(unpooled);
  const Dims y_strides = strides_of(y.dims());
  const int64_t* index = indices.data<int64_t>();
  const size_t element = dtype_size(x.dtype());
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (index[i] < 0 || index[i] >= unpooled_numel)
      node_error(k.node, "index {} at element {} is outside the unpooled shape {}", index[i], i, to_string(unpooled));
    int64_t rest = index[i], at = 0;
    for (size_t d = unpooled.size(); d-- > 0;) {
      const int64_t coordinate = rest % unpooled[d];
      rest /= unpooled[d];
      if (coordinate >= y.dims()[d])
        node_error(k.node, "index {} lands at {} in dim {}, outside output_shape {}", index[i], coordinate, d,
                   to_string(y.dims()));
      at += coordinate * y_strides[d];
    }
    std::memcpy(y.bytes() + size_t(at) * element, x.bytes() + size_t(i) * element, element);
  }
}

}  // namespace

extern const OpDef kMaxUnpool{.kind = OpKind::MaxUnpool,
                              .onnx_name = "MaxUnpool",
                              .min_inputs = 2,
                              .max_inputs = 3,
                              .attrs = {AttrSpec{"kernel_shape", AttrType::Ints, std::nullopt},
                                        AttrSpec{.name = "pads", .type = AttrType::Ints, .optional = true},
                                        AttrSpec{.name = "strides", .type = AttrType::Ints, .optional = true}},
                              .infer = infer,
                              .reference = reference,
                              .since_opset = 9};

}  // namespace nnc
