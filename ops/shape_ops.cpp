// ops/shape_ops.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kIdentity{.kind = OpKind::Identity, .onnx_name = "Identity"};
extern const OpDef kDropout{.kind = OpKind::Dropout, .onnx_name = "Dropout"};
extern const OpDef kReshape{.kind = OpKind::Reshape, .onnx_name = "Reshape"};
extern const OpDef kFlatten{.kind = OpKind::Flatten, .onnx_name = "Flatten"};
extern const OpDef kSqueeze{.kind = OpKind::Squeeze, .onnx_name = "Squeeze"};
extern const OpDef kUnsqueeze{.kind = OpKind::Unsqueeze, .onnx_name = "Unsqueeze"};
extern const OpDef kExpand{.kind = OpKind::Expand, .onnx_name = "Expand"};
extern const OpDef kShape{.kind = OpKind::Shape, .onnx_name = "Shape"};
extern const OpDef kSize{.kind = OpKind::Size, .onnx_name = "Size"};
}  // namespace nnc
