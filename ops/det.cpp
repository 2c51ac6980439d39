// ops/det.cpp — Det: the determinant of each square matrix in a [..., M, M] batch. ONNX opsets
// 11, 22 (bf16). https://onnx.ai/onnx/operators/onnx__Det.html
//
// Gaussian elimination with partial pivoting in double: the determinant is the product of the
// pivots, negated once per row swap. A zero pivot column means a singular matrix (0). An empty
// (0x0) matrix has determinant 1, the empty product.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype)) node_error(c.node, "input 0 has type {}; Det takes float types", dtype_name(x.dtype));
  if (!x.shape.rank_known) return {{x.dtype, Shape::unknown_rank()}};
  if (x.rank() < 2) node_error(c.node, "input 0 has rank {}; Det needs [..., M, M]", x.rank());
  const Dim& rows = x.shape.dims[size_t(x.rank() - 2)];
  const Dim& cols = x.shape.dims[size_t(x.rank() - 1)];
  if (rows.known() && cols.known() && rows.value != cols.value)
    node_error(c.node, "input 0 is {}; its matrices are {}x{}, not square", to_string(x.shape), rows.value,
               cols.value);
  Shape out = x.shape;
  out.dims.resize(out.dims.size() - 2);
  return {{x.dtype, out}};
}

// Destroys `a` (m x m, row-major).
double determinant(std::span<double> a, int64_t m) {
  double det = 1.0;
  for (int64_t col = 0; col < m; ++col) {
    int64_t pivot = col;
    for (int64_t row = col + 1; row < m; ++row)
      if (std::abs(a[size_t(row * m + col)]) > std::abs(a[size_t(pivot * m + col)])) pivot = row;
    if (a[size_t(pivot * m + col)] == 0) return 0.0;
    if (pivot != col) {
      std::swap_ranges(a.begin() + pivot * m, a.begin() + pivot * m + m, a.begin() + col * m);
      det = -det;
    }
    const double p = a[size_t(col * m + col)];
    det *= p;
    for (int64_t row = col + 1; row < m; ++row) {
      const double factor = a[size_t(row * m + col)] / p;
      for (int64_t j = col; j < m; ++j) a[size_t(row * m + j)] -= factor * a[size_t(col * m + j)];
    }
  }
  return det;
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int64_t m = x.dims().back();
  std::vector<double> values = x.to_double_vector();
  const int64_t matrices = k.out(0).numel();
  visit_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      T* out = k.out(0).data<T>();
      for (int64_t i = 0; i < matrices; ++i)
        out[i] = from_double<T>(determinant(std::span(values).subspan(size_t(i * m * m), size_t(m * m)), m));
    }
  });
}

}  // namespace

extern const OpDef kDet{.kind = OpKind::Det,
                        .onnx_name = "Det",
                        .infer = infer,
                        .reference = reference,
                        .since_opset = 11};

}  // namespace nnc
