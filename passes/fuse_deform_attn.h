// passes/fuse_deform_attn.h — see fuse_deform_attn.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fuse_deform_attn(Graph& g);
}  // namespace nnc
