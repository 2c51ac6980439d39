// ops/softmax.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kSoftmax{.kind = OpKind::Softmax, .onnx_name = "Softmax"};
extern const OpDef kLogSoftmax{.kind = OpKind::LogSoftmax, .onnx_name = "LogSoftmax"};
extern const OpDef kHardmax{.kind = OpKind::Hardmax, .onnx_name = "Hardmax"};
}  // namespace nnc
