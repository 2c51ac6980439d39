// passes/equalize_cross_layer.h — see equalize_cross_layer.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport equalize_cross_layer(Graph& g);
}  // namespace nnc
