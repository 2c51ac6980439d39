// ops/where.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kWhere{.kind = OpKind::Where, .onnx_name = "Where"};
}  // namespace nnc
