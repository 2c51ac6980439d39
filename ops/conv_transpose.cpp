// ops/conv_transpose.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kConvTranspose{.kind = OpKind::ConvTranspose, .onnx_name = "ConvTranspose"};
}  // namespace nnc
