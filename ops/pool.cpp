// ops/pool.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kMaxPool{.kind = OpKind::MaxPool, .onnx_name = "MaxPool"};
extern const OpDef kAveragePool{.kind = OpKind::AveragePool, .onnx_name = "AveragePool"};
extern const OpDef kLpPool{.kind = OpKind::LpPool, .onnx_name = "LpPool"};
extern const OpDef kGlobalAveragePool{.kind = OpKind::GlobalAveragePool, .onnx_name = "GlobalAveragePool"};
extern const OpDef kGlobalMaxPool{.kind = OpKind::GlobalMaxPool, .onnx_name = "GlobalMaxPool"};
extern const OpDef kGlobalLpPool{.kind = OpKind::GlobalLpPool, .onnx_name = "GlobalLpPool"};
}  // namespace nnc
