// ops/variadic.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kMax{.kind = OpKind::Max, .onnx_name = "Max"};
extern const OpDef kMin{.kind = OpKind::Min, .onnx_name = "Min"};
extern const OpDef kMean{.kind = OpKind::Mean, .onnx_name = "Mean"};
extern const OpDef kSum{.kind = OpKind::Sum, .onnx_name = "Sum"};
}  // namespace nnc
