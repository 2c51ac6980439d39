// ops/tile.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kTile{.kind = OpKind::Tile, .onnx_name = "Tile"};
}  // namespace nnc
