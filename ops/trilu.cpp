// ops/trilu.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kTrilu{.kind = OpKind::Trilu, .onnx_name = "Trilu"};
}  // namespace nnc
