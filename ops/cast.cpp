// ops/cast.cpp — Cast (to the type named by attribute `to`) and CastLike (to the type of input
// 1). ONNX opsets 6, 9, 13, 19 (Cast); 15, 19 (CastLike). https://onnx.ai/onnx/operators/
//
// The conversion itself is Tensor::cast: integers wrap, float to integer truncates and
// saturates (ONNX leaves overflow undefined), NaN to integer is 0. Strings, complex numbers and
// the float8 types of opset 19 are valid ONNX that nnc does not support. `saturate` only
// concerns float8 and is accepted and ignored.
#include "ops/op_def.h"

namespace nnc {
namespace {

// ONNX TensorProto.DataType enum value -> nnc dtype.
DType dtype_from_onnx(const Node& n, int64_t onnx_type) {
  if (const std::optional<DType> dtype = dtype_from_onnx_code(onnx_type)) return *dtype;
  switch (onnx_type) {
    case 8: fail(ErrorKind::Unsupported, "{}: casting to STRING is not supported", describe(n));
    case 14:
    case 15: fail(ErrorKind::Unsupported, "{}: complex types are not supported", describe(n));
    case 17:
    case 18:
    case 19:
    case 20:
      fail(ErrorKind::Unsupported, "{}: float8 types (ONNX type {}) are not supported", describe(n),
           onnx_type);
    default: node_error(n, "attribute 'to' is {}, which is not an ONNX data type", onnx_type);
  }
}

DType target_type(const Node& n, const TensorType* like) {
  return n.op == OpKind::CastLike ? like->dtype : dtype_from_onnx(n, attr_int(n, "to"));
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType* like = c.node.op == OpKind::CastLike ? &c.in(1) : nullptr;
  return {TensorType{target_type(c.node, like), c.in(0).shape}};
}

void reference(KernelContext& k) {
  // The output was allocated with the target type; cast() makes a tensor of the same shape.
  k.out(0) = k.in(0).cast(k.out(0).dtype());
}

const AttrSpec kSaturate{"saturate", AttrType::Int, int64_t{1}};

}  // namespace

extern const OpDef kCast{
    .kind = OpKind::Cast,
    .onnx_name = "Cast",
    .attrs = {AttrSpec{"to", AttrType::Int, std::nullopt}, kSaturate},
    .infer = infer,
    .reference = reference,
    .since_opset = 6,  // opsets 1-5 named the target type with a string
};

extern const OpDef kCastLike{
    .kind = OpKind::CastLike,
    .onnx_name = "CastLike",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {kSaturate},
    .infer = infer,
    .reference = reference,
};

}  // namespace nnc
