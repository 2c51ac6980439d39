// ops/nms.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kNonMaxSuppression{.kind = OpKind::NonMaxSuppression, .onnx_name = "NonMaxSuppression"};
}  // namespace nnc
