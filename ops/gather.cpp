// ops/gather.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kGather{.kind = OpKind::Gather, .onnx_name = "Gather"};
extern const OpDef kGatherElements{.kind = OpKind::GatherElements, .onnx_name = "GatherElements"};
extern const OpDef kGatherND{.kind = OpKind::GatherND, .onnx_name = "GatherND"};
}  // namespace nnc
