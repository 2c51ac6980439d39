// passes/fold_quantized_ops.h — see fold_quantized_ops.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport fold_quantized_ops(Graph& g);
}  // namespace nnc
