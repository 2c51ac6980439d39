// passes/fuse_activations.h — see fuse_activations.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fuse_activations(Graph& g);
}  // namespace nnc
