// ops/optimizers.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kAdagrad{.kind = OpKind::Adagrad, .onnx_name = "Adagrad"};
extern const OpDef kAdam{.kind = OpKind::Adam, .onnx_name = "Adam"};
extern const OpDef kMomentum{.kind = OpKind::Momentum, .onnx_name = "Momentum"};
}  // namespace nnc
