// passes/eliminate_concat.h — see eliminate_concat.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport eliminate_concat(Graph& g);
}  // namespace nnc
