// passes/fold_constants.h — see fold_constants.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fold_constants(Graph& g);
}  // namespace nnc
