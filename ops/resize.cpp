// ops/resize.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kResize{.kind = OpKind::Resize, .onnx_name = "Resize"};
}  // namespace nnc
