// passes/fuse_deform_conv.h — see fuse_deform_conv.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fuse_deform_conv(Graph& g);
}  // namespace nnc
