// ops/quantized_linear.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kConvInteger{.kind = OpKind::ConvInteger, .onnx_name = "ConvInteger"};
extern const OpDef kMatMulInteger{.kind = OpKind::MatMulInteger, .onnx_name = "MatMulInteger"};
extern const OpDef kQLinearConv{.kind = OpKind::QLinearConv, .onnx_name = "QLinearConv"};
extern const OpDef kQLinearMatMul{.kind = OpKind::QLinearMatMul, .onnx_name = "QLinearMatMul"};
}  // namespace nnc
