// passes/eliminate_common_subexpressions.h — see eliminate_common_subexpressions.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport eliminate_common_subexpressions(Graph& g);
}  // namespace nnc
