// ops/trilu.cpp — Trilu: keeps the upper (upper=1) or lower (upper=0) triangle of the last two
// axes and zeroes the rest. ONNX opset 14. https://onnx.ai/onnx/operators/onnx__Trilu.html
//
// Element (i, j) of each matrix is kept when j - i >= k (upper) or j - i <= k (lower); k is an
// optional scalar input, 0 by default, so k > 0 moves the diagonal right.
#include <algorithm>
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

int64_t diagonal(const Node& n, const Tensor* k) {
  if (!k) return 0;
  if (k->dtype() != DType::I64 || k->numel() != 1)
    node_error(n, "input 1 (k) must be one i64 value, not {}", to_string(k->type()));
  return k->get_int(0);
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (x.shape.rank_known && x.rank() < 2)
    node_error(c.node, "input 0 {} must have rank >= 2", to_string(x));
  diagonal(c.node, c.value(1));
  return {x};
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  Tensor& y = k.out(0);
  const int64_t offset = diagonal(k.node, k.has_input(1) ? &k.in(1) : nullptr);
  const bool upper = attr_int(k.node, "upper") != 0;
  const int64_t rows = x.dims()[size_t(x.rank() - 2)], cols = x.dims().back();
  const int64_t matrices = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  const size_t element = dtype_size(x.dtype());
  for (int64_t m = 0; m < matrices; ++m)
    for (int64_t i = 0; i < rows; ++i) {
      // Kept columns of row i form one run: [i + k, cols) for upper, [0, i + k] for lower.
      const int64_t begin = upper ? std::clamp<int64_t>(i + offset, 0, cols) : 0;
      const int64_t end = upper ? cols : std::clamp<int64_t>(i + offset + 1, 0, cols);
      const size_t at = size_t((m * rows + i) * cols + begin) * element;
      if (end > begin) std::memcpy(y.bytes() + at, x.bytes() + at, size_t(end - begin) * element);
    }
}

}  // namespace

extern const OpDef kTrilu{.kind = OpKind::Trilu,
                          .onnx_name = "Trilu",
                          .max_inputs = 2,
                          .attrs = {AttrSpec{"upper", AttrType::Int, int64_t{1}}},
                          .infer = infer,
                          .reference = reference};

}  // namespace nnc
