// ops/max_unpool.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kMaxUnpool{.kind = OpKind::MaxUnpool, .onnx_name = "MaxUnpool"};
}  // namespace nnc
