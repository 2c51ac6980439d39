// ops/unary.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kAbs{.kind = OpKind::Abs, .onnx_name = "Abs"};
extern const OpDef kNeg{.kind = OpKind::Neg, .onnx_name = "Neg"};
extern const OpDef kSign{.kind = OpKind::Sign, .onnx_name = "Sign"};
extern const OpDef kReciprocal{.kind = OpKind::Reciprocal, .onnx_name = "Reciprocal"};
extern const OpDef kFloor{.kind = OpKind::Floor, .onnx_name = "Floor"};
extern const OpDef kCeil{.kind = OpKind::Ceil, .onnx_name = "Ceil"};
extern const OpDef kRound{.kind = OpKind::Round, .onnx_name = "Round"};
extern const OpDef kSqrt{.kind = OpKind::Sqrt, .onnx_name = "Sqrt"};
extern const OpDef kExp{.kind = OpKind::Exp, .onnx_name = "Exp"};
extern const OpDef kLog{.kind = OpKind::Log, .onnx_name = "Log"};
extern const OpDef kErf{.kind = OpKind::Erf, .onnx_name = "Erf"};
extern const OpDef kSin{.kind = OpKind::Sin, .onnx_name = "Sin"};
extern const OpDef kCos{.kind = OpKind::Cos, .onnx_name = "Cos"};
extern const OpDef kTan{.kind = OpKind::Tan, .onnx_name = "Tan"};
extern const OpDef kAsin{.kind = OpKind::Asin, .onnx_name = "Asin"};
extern const OpDef kAcos{.kind = OpKind::Acos, .onnx_name = "Acos"};
extern const OpDef kAtan{.kind = OpKind::Atan, .onnx_name = "Atan"};
extern const OpDef kSinh{.kind = OpKind::Sinh, .onnx_name = "Sinh"};
extern const OpDef kCosh{.kind = OpKind::Cosh, .onnx_name = "Cosh"};
extern const OpDef kAsinh{.kind = OpKind::Asinh, .onnx_name = "Asinh"};
extern const OpDef kAcosh{.kind = OpKind::Acosh, .onnx_name = "Acosh"};
extern const OpDef kAtanh{.kind = OpKind::Atanh, .onnx_name = "Atanh"};
extern const OpDef kRelu{.kind = OpKind::Relu, .onnx_name = "Relu"};
extern const OpDef kLeakyRelu{.kind = OpKind::LeakyRelu, .onnx_name = "LeakyRelu"};
extern const OpDef kElu{.kind = OpKind::Elu, .onnx_name = "Elu"};
extern const OpDef kSelu{.kind = OpKind::Selu, .onnx_name = "Selu"};
extern const OpDef kCelu{.kind = OpKind::Celu, .onnx_name = "Celu"};
extern const OpDef kThresholdedRelu{.kind = OpKind::ThresholdedRelu, .onnx_name = "ThresholdedRelu"};
extern const OpDef kSigmoid{.kind = OpKind::Sigmoid, .onnx_name = "Sigmoid"};
extern const OpDef kHardSigmoid{.kind = OpKind::HardSigmoid, .onnx_name = "HardSigmoid"};
extern const OpDef kHardSwish{.kind = OpKind::HardSwish, .onnx_name = "HardSwish"};
extern const OpDef kTanh{.kind = OpKind::Tanh, .onnx_name = "Tanh"};
extern const OpDef kSoftplus{.kind = OpKind::Softplus, .onnx_name = "Softplus"};
extern const OpDef kSoftsign{.kind = OpKind::Softsign, .onnx_name = "Softsign"};
extern const OpDef kMish{.kind = OpKind::Mish, .onnx_name = "Mish"};
extern const OpDef kGelu{.kind = OpKind::Gelu, .onnx_name = "Gelu"};
extern const OpDef kShrink{.kind = OpKind::Shrink, .onnx_name = "Shrink"};
extern const OpDef kIsNaN{.kind = OpKind::IsNaN, .onnx_name = "IsNaN"};
extern const OpDef kIsInf{.kind = OpKind::IsInf, .onnx_name = "IsInf"};
extern const OpDef kNot{.kind = OpKind::Not, .onnx_name = "Not"};
extern const OpDef kBitwiseNot{.kind = OpKind::BitwiseNot, .onnx_name = "BitwiseNot"};
}  // namespace nnc
