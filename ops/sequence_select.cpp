// ops/sequence_select.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kReverseSequence{.kind = OpKind::ReverseSequence, .onnx_name = "ReverseSequence"};
extern const OpDef kCompress{.kind = OpKind::Compress, .onnx_name = "Compress"};
}  // namespace nnc
