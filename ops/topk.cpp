// ops/topk.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kTopK{.kind = OpKind::TopK, .onnx_name = "TopK"};
}  // namespace nnc
