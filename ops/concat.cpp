// ops/concat.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kConcat{.kind = OpKind::Concat, .onnx_name = "Concat"};
}  // namespace nnc
