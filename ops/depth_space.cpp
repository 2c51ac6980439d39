// ops/depth_space.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kDepthToSpace{.kind = OpKind::DepthToSpace, .onnx_name = "DepthToSpace"};
extern const OpDef kSpaceToDepth{.kind = OpKind::SpaceToDepth, .onnx_name = "SpaceToDepth"};
}  // namespace nnc
