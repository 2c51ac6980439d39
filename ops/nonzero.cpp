// ops/nonzero.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kNonZero{.kind = OpKind::NonZero, .onnx_name = "NonZero"};
}  // namespace nnc
