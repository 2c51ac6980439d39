// ops/tile.cpp — Tile: repeats the input `repeats[d]` times along each axis d.
// ONNX opsets 6, 13. https://onnx.ai/onnx/operators/onnx__Tile.html
//
// Output coordinate o along axis d reads input coordinate o mod dim. The kernel builds the
// output one row (last axis) at a time: copy the input row, then repeat it along the row.
#include <algorithm>
#include <limits>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<int64_t> repeat_counts(const Node& n, int rank, const Tensor& repeats) {
  if (repeats.dtype() != DType::I64 || repeats.rank() != 1)
    node_error(n, "input 1 (repeats) must be a 1-D i64 tensor, not {}", to_string(repeats.type()));
  std::vector<int64_t> counts = repeats.to_int_vector();
  if (int(counts.size()) != rank)
    node_error(n, "repeats [{}] has {} entries but the input has rank {}", fmt::join(counts, ","),
               counts.size(), rank);
  for (int64_t r : counts)
    if (r < 0) node_error(n, "repeats [{}] has a negative count", fmt::join(counts, ","));
  return counts;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!x.shape.rank_known) return {x};
  const Tensor* repeats = c.value(1);
  if (!repeats) return {{x.dtype, Shape(std::vector<Dim>(size_t(x.rank()), Dim()))}};
  const std::vector<int64_t> counts = repeat_counts(c.node, x.rank(), *repeats);
  TensorType out = x;
  for (int d = 0; d < x.rank(); ++d) {
    Dim& dim = out.shape.dims[size_t(d)];
    if (dim.known()) {
      if (dim.value != 0 && counts[size_t(d)] > std::numeric_limits<int64_t>::max() / dim.value)
        node_error(c.node, "repeats [{}] make axis {} larger than any tensor can be",
                   fmt::join(counts, ","), d);
      dim = Dim(dim.value * counts[size_t(d)]);
    } else if (counts[size_t(d)] != 1) {
      dim = Dim();
    }
  }
  if (out.shape.fully_known()) checked_numel(out.shape.concrete(), x.dtype, describe(c.node));
  return {out};
}

template <typename Word>  // an unsigned integer as wide as the element
void tile(const Tensor& x, Tensor& y) {
  if (y.numel() == 0) return;
  const Dims& in_dims = x.dims();
  const Dims& out_dims = y.dims();
  const int rank = int(out_dims.size());
  const Word* in = reinterpret_cast<const Word*>(x.bytes());
  Word* out = reinterpret_cast<Word*>(y.bytes());
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const Dims in_strides = strides_of(in_dims);
  const int64_t in_row = in_dims.back(), out_row = out_dims.back();
  std::vector<int64_t> index(size_t(rank - 1), 0);  // output coordinates of the outer axes
  for (int64_t at = 0; at < y.numel(); at += out_row) {
    int64_t base = 0;
    for (int d = 0; d < rank - 1; ++d)
      base += (index[size_t(d)] % in_dims[size_t(d)]) * in_strides[size_t(d)];
    for (int64_t j = 0; j < out_row; j += in_row) std::copy_n(in + base, in_row, out + at + j);
    for (int d = rank - 2; d >= 0; --d) {  // next row
      if (++index[size_t(d)] < out_dims[size_t(d)]) break;
      index[size_t(d)] = 0;
    }
  }
}

void reference(KernelContext& k) {
  visit_word(k.in(0).dtype(), [&]<typename Word>() { tile<Word>(k.in(0), k.out(0)); });
}

}  // namespace

extern const OpDef kTile{.kind = OpKind::Tile,
                         .onnx_name = "Tile",
                         .min_inputs = 2,
                         .max_inputs = 2,
                         .infer = infer,
                         .reference = reference,
                         .since_opset = 6};  // Tile-1 took `tiles` and `axis` inputs instead

}  // namespace nnc
