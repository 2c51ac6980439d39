// ops/conv.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kConv{.kind = OpKind::Conv, .onnx_name = "Conv"};
}  // namespace nnc
