// ops/cast.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kCast{.kind = OpKind::Cast, .onnx_name = "Cast"};
extern const OpDef kCastLike{.kind = OpKind::CastLike, .onnx_name = "CastLike"};
}  // namespace nnc
