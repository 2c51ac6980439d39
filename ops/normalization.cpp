// ops/normalization.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kBatchNormalization{.kind = OpKind::BatchNormalization, .onnx_name = "BatchNormalization"};
extern const OpDef kInstanceNormalization{.kind = OpKind::InstanceNormalization, .onnx_name = "InstanceNormalization"};
extern const OpDef kLayerNormalization{.kind = OpKind::LayerNormalization, .onnx_name = "LayerNormalization"};
extern const OpDef kGroupNormalization{.kind = OpKind::GroupNormalization, .onnx_name = "GroupNormalization"};
extern const OpDef kLpNormalization{.kind = OpKind::LpNormalization, .onnx_name = "LpNormalization"};
extern const OpDef kMeanVarianceNormalization{.kind = OpKind::MeanVarianceNormalization, .onnx_name = "MeanVarianceNormalization"};
extern const OpDef kLRN{.kind = OpKind::LRN, .onnx_name = "LRN"};
}  // namespace nnc
