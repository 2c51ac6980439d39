// ops/pad.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kPad{.kind = OpKind::Pad, .onnx_name = "Pad"};
}  // namespace nnc
