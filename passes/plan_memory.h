// passes/plan_memory.h — see plan_memory.cpp. Not a rewrite: an analysis of the final graph
// that the interpreter follows (LoadOptions::plan_memory) and `nnc compile` reports.
#pragma once

#include <string>

#include "core/graph.h"
#include "core/memory_plan.h"

namespace nnc {
MemoryPlan plan_memory(const Graph& g);
// "memory plan: arena 12.50 MiB for 240 intermediates (...); naive sum ..., lower bound ..."
std::string describe(const MemoryPlan& plan);
}  // namespace nnc
