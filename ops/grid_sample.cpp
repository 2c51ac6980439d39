// ops/grid_sample.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kGridSample{.kind = OpKind::GridSample, .onnx_name = "GridSample"};
}  // namespace nnc
