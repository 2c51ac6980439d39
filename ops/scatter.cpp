// ops/scatter.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kScatterND{.kind = OpKind::ScatterND, .onnx_name = "ScatterND"};
extern const OpDef kScatterElements{.kind = OpKind::ScatterElements, .onnx_name = "ScatterElements"};
}  // namespace nnc
