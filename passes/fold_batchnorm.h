// passes/fold_batchnorm.h — see fold_batchnorm.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fold_batchnorm(Graph& g);
}  // namespace nnc
