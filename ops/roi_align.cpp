// ops/roi_align.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kRoiAlign{.kind = OpKind::RoiAlign, .onnx_name = "RoiAlign"};
}  // namespace nnc
