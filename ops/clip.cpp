// ops/clip.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kClip{.kind = OpKind::Clip, .onnx_name = "Clip"};
}  // namespace nnc
