// ops/det.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kDet{.kind = OpKind::Det, .onnx_name = "Det"};
}  // namespace nnc
