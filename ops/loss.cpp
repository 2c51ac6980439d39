// ops/loss.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kNegativeLogLikelihoodLoss{.kind = OpKind::NegativeLogLikelihoodLoss, .onnx_name = "NegativeLogLikelihoodLoss"};
extern const OpDef kSoftmaxCrossEntropyLoss{.kind = OpKind::SoftmaxCrossEntropyLoss, .onnx_name = "SoftmaxCrossEntropyLoss"};
}  // namespace nnc
