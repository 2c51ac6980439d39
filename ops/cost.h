// ops/cost.h — rough work estimates for `nnc inspect` and profiles.
#pragma once

#include "core/graph.h"

namespace nnc {

// Floating-point operations of one node: 2 per multiply-accumulate for Conv, ConvTranspose,
// MatMul and Gemm; one per output element for everything else. 0 when shapes are unknown.
double estimate_flops(const Graph& g, const Node& n);

}  // namespace nnc
