// ops/slice.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kSlice{.kind = OpKind::Slice, .onnx_name = "Slice"};
}  // namespace nnc
