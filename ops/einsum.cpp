// ops/einsum.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kEinsum{.kind = OpKind::Einsum, .onnx_name = "Einsum"};
}  // namespace nnc
