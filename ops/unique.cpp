// ops/unique.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kUnique{.kind = OpKind::Unique, .onnx_name = "Unique"};
}  // namespace nnc
