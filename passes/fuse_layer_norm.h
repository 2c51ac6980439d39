// passes/fuse_layer_norm.h — see fuse_layer_norm.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fuse_layer_norm(Graph& g);
}  // namespace nnc
