// ops/binary.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kAdd{.kind = OpKind::Add, .onnx_name = "Add"};
extern const OpDef kSub{.kind = OpKind::Sub, .onnx_name = "Sub"};
extern const OpDef kMul{.kind = OpKind::Mul, .onnx_name = "Mul"};
extern const OpDef kDiv{.kind = OpKind::Div, .onnx_name = "Div"};
extern const OpDef kPow{.kind = OpKind::Pow, .onnx_name = "Pow"};
extern const OpDef kMod{.kind = OpKind::Mod, .onnx_name = "Mod"};
extern const OpDef kPRelu{.kind = OpKind::PRelu, .onnx_name = "PRelu"};
extern const OpDef kEqual{.kind = OpKind::Equal, .onnx_name = "Equal"};
extern const OpDef kLess{.kind = OpKind::Less, .onnx_name = "Less"};
extern const OpDef kLessOrEqual{.kind = OpKind::LessOrEqual, .onnx_name = "LessOrEqual"};
extern const OpDef kGreater{.kind = OpKind::Greater, .onnx_name = "Greater"};
extern const OpDef kGreaterOrEqual{.kind = OpKind::GreaterOrEqual, .onnx_name = "GreaterOrEqual"};
extern const OpDef kAnd{.kind = OpKind::And, .onnx_name = "And"};
extern const OpDef kOr{.kind = OpKind::Or, .onnx_name = "Or"};
extern const OpDef kXor{.kind = OpKind::Xor, .onnx_name = "Xor"};
extern const OpDef kBitShift{.kind = OpKind::BitShift, .onnx_name = "BitShift"};
extern const OpDef kBitwiseAnd{.kind = OpKind::BitwiseAnd, .onnx_name = "BitwiseAnd"};
extern const OpDef kBitwiseOr{.kind = OpKind::BitwiseOr, .onnx_name = "BitwiseOr"};
extern const OpDef kBitwiseXor{.kind = OpKind::BitwiseXor, .onnx_name = "BitwiseXor"};
}  // namespace nnc
