// passes/fuse_gelu.h — see fuse_gelu.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fuse_gelu(Graph& g);
}  // namespace nnc
