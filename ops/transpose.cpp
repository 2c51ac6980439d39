// ops/transpose.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kTranspose{.kind = OpKind::Transpose, .onnx_name = "Transpose"};
}  // namespace nnc
