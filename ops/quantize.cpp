// ops/quantize.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kQuantizeLinear{.kind = OpKind::QuantizeLinear, .onnx_name = "QuantizeLinear"};
extern const OpDef kDequantizeLinear{.kind = OpKind::DequantizeLinear, .onnx_name = "DequantizeLinear"};
extern const OpDef kDynamicQuantizeLinear{.kind = OpKind::DynamicQuantizeLinear, .onnx_name = "DynamicQuantizeLinear"};
}  // namespace nnc
