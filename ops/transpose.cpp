// ops/transpose.cpp — Transpose: output dim i is input dim perm[i]; no perm reverses the dims.
// ONNX opsets 1, 13. https://onnx.ai/onnx/operators/onnx__Transpose.html
//
// The kernel is dtype-blind (it moves elements of 1, 2, 4 or 8 bytes) and works in two steps:
//   1. merge output dims that stay neighbours in the input ([0,2,1,3] on [B,S,H,D] with the
//      last dim kept reads rows of D contiguous elements), which also drops dims of size 1;
//   2. walk the output with an odometer over all but the last two merged dims, and copy each
//      last-two-dims plane in 32x32 tiles, so both the reads and the writes of a tile stay in
//      cache when the innermost input stride is large (the [.., K, N] -> [.., N, K] case of
//      attention). When the innermost dim keeps stride 1, rows are plain copies.
#include <algorithm>
#include <numeric>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<int64_t> permutation(const Node& n, int rank) {
  if (!n.has_attr("perm")) {
    std::vector<int64_t> reversed(static_cast<size_t>(rank));
    std::iota(reversed.rbegin(), reversed.rend(), 0);
    return reversed;
  }
  const std::vector<int64_t> perm = attr_ints(n, "perm");
  if (int(perm.size()) != rank)
    node_error(n, "perm [{}] has {} entries but the input has rank {}", fmt::join(perm, ","),
               perm.size(), rank);
  std::vector<bool> seen(size_t(rank), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[size_t(p)])
      node_error(n, "perm [{}] is not a permutation of 0..{}", fmt::join(perm, ","), rank - 1);
    seen[size_t(p)] = true;
  }
  return perm;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!x.shape.rank_known) {
    if (!c.node.has_attr("perm")) return {x};
    return {{x.dtype, Shape(std::vector<Dim>(attr_ints(c.node, "perm").size(), Dim()))}};
  }
  std::vector<Dim> out;
  for (int64_t p : permutation(c.node, x.rank())) out.push_back(x.shape.dims[size_t(p)]);
  return {{x.dtype, Shape(out)}};
}

// Output dims and the input stride of each, after merging dims that stay neighbours.
struct Walk {
  Dims dims;
  Dims in_strides;
};

Walk merged_walk(const Dims& in_dims, const std::vector<int64_t>& perm) {
  const Dims strides = strides_of(in_dims);
  Walk w;
  for (int64_t p : perm) {
    const int64_t size = in_dims[size_t(p)], stride = strides[size_t(p)];
    if (size == 1) continue;
    // Output dim follows the previous one in the input too: one dim, read contiguously.
    if (!w.dims.empty() && w.in_strides.back() == stride * size) {
      w.dims.back() *= size;
      w.in_strides.back() = stride;
    } else {
      w.dims.push_back(size);
      w.in_strides.push_back(stride);
    }
  }
  while (w.dims.size() < 2) {  // pad to two dims so the plane copy always applies
    w.dims.insert(w.dims.begin(), 1);
    w.in_strides.insert(w.in_strides.begin(), 0);
  }
  return w;
}

// Copies one rows x cols output plane whose input strides are row_stride and col_stride.
template <typename Word>
void copy_plane(const Word* in, Word* out, int64_t rows, int64_t cols, int64_t row_stride,
                int64_t col_stride) {
  if (col_stride == 1) {
    for (int64_t r = 0; r < rows; ++r) std::copy_n(in + r * row_stride, cols, out + r * cols);
    return;
  }
  constexpr int64_t kTile = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile)
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) out[r * cols + c] = in[r * row_stride + c * col_stride];
    }
}

template <typename Word>  // an unsigned integer as wide as the element
void transpose(const Tensor& x, const std::vector<int64_t>& perm, Tensor& y) {
  if (y.numel() == 0) return;
  const Walk w = merged_walk(x.dims(), perm);
  const int outer_rank = int(w.dims.size()) - 2;
  const int64_t rows = w.dims[size_t(outer_rank)], cols = w.dims[size_t(outer_rank) + 1];
  const int64_t row_stride = w.in_strides[size_t(outer_rank)];
  const int64_t col_stride = w.in_strides[size_t(outer_rank) + 1];
  const Word* in = reinterpret_cast<const Word*>(x.bytes());
  Word* out = reinterpret_cast<Word*>(y.bytes());
  std::vector<int64_t> index(size_t(outer_rank), 0);
  int64_t in_offset = 0;
  for (int64_t out_offset = 0; out_offset < y.numel(); out_offset += rows * cols) {
    copy_plane(in + in_offset, out + out_offset, rows, cols, row_stride, col_stride);
    for (int d = outer_rank - 1; d >= 0; --d) {  // next plane: advance the odometer
      in_offset += w.in_strides[size_t(d)];
      if (++index[size_t(d)] < w.dims[size_t(d)]) break;
      in_offset -= w.in_strides[size_t(d)] * w.dims[size_t(d)];
      index[size_t(d)] = 0;
    }
  }
}

void reference(KernelContext& k) {
  const std::vector<int64_t> perm = permutation(k.node, k.in(0).rank());
  visit_word(k.in(0).dtype(), [&]<typename Word>() { transpose<Word>(k.in(0), perm, k.out(0)); });
}

}  // namespace

extern const OpDef kTranspose{
    .kind = OpKind::Transpose,
    .onnx_name = "Transpose",
    .attrs = {AttrSpec{.name = "perm", .type = AttrType::Ints, .optional = true}},
    .infer = infer,
    .reference = reference,
};

}  // namespace nnc
