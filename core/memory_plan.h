// core/memory_plan.h — where every intermediate tensor lives in one arena (made by
// passes/plan_memory.cpp, honoured by the interpreter in ops/interpreter.cpp).
#pragma once

#include <cstdint>
#include <vector>

namespace nnc {

struct MemoryPlan {
  // Per ValueId: byte offset in the arena, or -1 when the value has storage of its own (graph
  // inputs and outputs, constants, unknown shapes, data-dependent outputs).
  std::vector<int64_t> offset;
  // Per node: a zero-copy Concat whose inputs already sit in its output (skip the kernel).
  std::vector<bool> skip_node;
  // Per node: its output reuses its input's bytes (elementwise, input dead afterwards), so the
  // output must not be zero-filled before the kernel runs.
  std::vector<bool> in_place_node;

  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;        // every planned intermediate in an allocation of its own
  int64_t lower_bound_bytes = 0;  // the most bytes live at any one step of the schedule
  int planned_values = 0;
  int in_place = 0;
  int zero_copy_concats = 0;
};

}  // namespace nnc
