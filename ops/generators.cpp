// ops/generators.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kConstant{.kind = OpKind::Constant, .onnx_name = "Constant"};
extern const OpDef kConstantOfShape{.kind = OpKind::ConstantOfShape, .onnx_name = "ConstantOfShape"};
extern const OpDef kRange{.kind = OpKind::Range, .onnx_name = "Range"};
extern const OpDef kOneHot{.kind = OpKind::OneHot, .onnx_name = "OneHot"};
extern const OpDef kEyeLike{.kind = OpKind::EyeLike, .onnx_name = "EyeLike"};
}  // namespace nnc
