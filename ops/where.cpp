// ops/where.cpp — Where: out = condition ? X : Y elementwise, all three broadcast together
// (numpy rules). ONNX opsets 9, 16. https://onnx.ai/onnx/operators/onnx__Where.html
//
// The kernel walks the output row by row along the last dim; each input either varies along
// the row (stride 1) or is broadcast (stride 0), so only the row start needs index arithmetic.
#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  if (c.in(0).dtype != DType::Bool)
    node_error(c.node, "input 0 (condition) has type {}; it must be bool",
               dtype_name(c.in(0).dtype));
  if (c.in(1).dtype != c.in(2).dtype)
    node_error(c.node, "X has type {} but Y has {}; they must match", dtype_name(c.in(1).dtype),
               dtype_name(c.in(2).dtype));
  const Shape shapes[] = {c.in(0).shape, c.in(1).shape, c.in(2).shape};
  return {TensorType{c.in(1).dtype, broadcast_shapes(c.node, shapes)}};
}

// Where an input's row starts, and whether it varies along the row.
struct RowCursor {
  const Tensor& t;
  bool varies() const { return t.rank() > 0 && t.dims().back() != 1; }
  int64_t start(int64_t out_index, const Dims& out_dims) const {
    return broadcast_index(out_index, out_dims, t.dims());
  }
};

template <typename T>
void where(const Tensor& condition, const Tensor& x, const Tensor& y, Tensor& out) {
  const Dims& dims = out.dims();
  const int64_t total = out.numel();
  if (total == 0) return;
  const int64_t row = dims.empty() ? 1 : dims.back();
  const RowCursor cc{condition}, xc{x}, yc{y};
  const int64_t c_step = cc.varies(), x_step = xc.varies(), y_step = yc.varies();
  const bool* cond = condition.data<bool>();
  const T* xs = x.data<T>();
  const T* ys = y.data<T>();
  T* result = out.data<T>();
  for (int64_t start = 0; start < total; start += row) {
    const bool* cr = cond + cc.start(start, dims);
    const T* xr = xs + xc.start(start, dims);
    const T* yr = ys + yc.start(start, dims);
    T* zr = result + start;
    for (int64_t i = 0; i < row; ++i) zr[i] = cr[i * c_step] ? xr[i * x_step] : yr[i * y_step];
  }
}

void reference(KernelContext& k) {
  visit_dtype(k.in(1).dtype(),
              [&]<typename T>() { where<T>(k.in(0), k.in(1), k.in(2), k.out(0)); });
}

}  // namespace

extern const OpDef kWhere{
    .kind = OpKind::Where,
    .onnx_name = "Where",
    .min_inputs = 3,
    .max_inputs = 3,
    .infer = infer,
    .reference = reference,
};

}  // namespace nnc
