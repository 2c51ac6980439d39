// ops/cumsum.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kCumSum{.kind = OpKind::CumSum, .onnx_name = "CumSum"};
}  // namespace nnc
