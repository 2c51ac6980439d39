// ops/matmul.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kMatMul{.kind = OpKind::MatMul, .onnx_name = "MatMul"};
extern const OpDef kGemm{.kind = OpKind::Gemm, .onnx_name = "Gemm"};
}  // namespace nnc
