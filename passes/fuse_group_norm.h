// passes/fuse_group_norm.h — see fuse_group_norm.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fuse_group_norm(Graph& g);
}  // namespace nnc
