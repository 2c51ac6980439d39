// ops/reduce.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kReduceSum{.kind = OpKind::ReduceSum, .onnx_name = "ReduceSum"};
extern const OpDef kReduceMean{.kind = OpKind::ReduceMean, .onnx_name = "ReduceMean"};
extern const OpDef kReduceMax{.kind = OpKind::ReduceMax, .onnx_name = "ReduceMax"};
extern const OpDef kReduceMin{.kind = OpKind::ReduceMin, .onnx_name = "ReduceMin"};
extern const OpDef kReduceProd{.kind = OpKind::ReduceProd, .onnx_name = "ReduceProd"};
extern const OpDef kReduceL1{.kind = OpKind::ReduceL1, .onnx_name = "ReduceL1"};
extern const OpDef kReduceL2{.kind = OpKind::ReduceL2, .onnx_name = "ReduceL2"};
extern const OpDef kReduceLogSum{.kind = OpKind::ReduceLogSum, .onnx_name = "ReduceLogSum"};
extern const OpDef kReduceLogSumExp{.kind = OpKind::ReduceLogSumExp, .onnx_name = "ReduceLogSumExp"};
extern const OpDef kReduceSumSquare{.kind = OpKind::ReduceSumSquare, .onnx_name = "ReduceSumSquare"};
extern const OpDef kArgMax{.kind = OpKind::ArgMax, .onnx_name = "ArgMax"};
extern const OpDef kArgMin{.kind = OpKind::ArgMin, .onnx_name = "ArgMin"};
}  // namespace nnc
