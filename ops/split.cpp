// ops/split.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kSplit{.kind = OpKind::Split, .onnx_name = "Split"};
}  // namespace nnc
