// ops/control_flow.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kIf{.kind = OpKind::If, .onnx_name = "If"};
extern const OpDef kLoop{.kind = OpKind::Loop, .onnx_name = "Loop"};
}  // namespace nnc
