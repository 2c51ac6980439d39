// ops/nonzero.cpp — NonZero: the coordinates of the non-zero elements, as an i64 tensor of
// shape [rank, count] in row-major order (numpy.nonzero stacked). ONNX opsets 9, 13.
// https://onnx.ai/onnx/operators/onnx__NonZero.html
//
// The count depends on the values, so the output's second dim is unknown until they are known
// (a constant input, or at run time). A scalar input counts as rank 0: shape [0, count].
#include "ops/op_def.h"

namespace nnc {
namespace {

// Flat positions of the non-zero elements.
std::vector<int64_t> nonzero_positions(const Tensor& x) {
  std::vector<int64_t> positions;
  visit_dtype(x.dtype(), [&]<typename T>() {
    const T* data = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i)
      if (to_double(data[i]) != 0) positions.push_back(i);
  });
  return positions;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  const Dim rank = x.shape.rank_known ? Dim(x.rank()) : Dim();
  const Dim count = c.value(0) ? Dim(int64_t(nonzero_positions(*c.value(0)).size())) : Dim();
  return {{DType::I64, Shape({rank, count})}};
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  const std::vector<int64_t> positions = nonzero_positions(x);
  const int64_t count = int64_t(positions.size());
  int64_t* out = k.out(0).data<int64_t>();
  const Dims strides = strides_of(x.dims());
  for (int64_t n = 0; n < count; ++n)
    for (int d = 0; d < x.rank(); ++d)  // row d holds the d-th coordinate of every element
      out[d * count + n] = positions[size_t(n)] / strides[size_t(d)] % x.dims()[size_t(d)];
}

}  // namespace

extern const OpDef kNonZero{
    .kind = OpKind::NonZero, .onnx_name = "NonZero", .infer = infer, .reference = reference};

}  // namespace nnc
