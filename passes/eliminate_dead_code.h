// passes/eliminate_dead_code.h — see eliminate_dead_code.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport eliminate_dead_code(Graph& g);
}  // namespace nnc
