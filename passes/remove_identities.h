// passes/remove_identities.h — see remove_identities.cpp.
#pragma once

#include "passes/pass_report.h"

namespace nnc {
PassReport remove_identities(Graph& g);
}  // namespace nnc
