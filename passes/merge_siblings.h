// passes/merge_siblings.h — see merge_siblings.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport merge_siblings(Graph& g);
}  // namespace nnc
