// backends/cpu/tactic.h — how a fast kernel offers itself for an op.
//
// A Tactic names one implementation of one op kind. `rejects` says, for a concrete node of a
// graph whose shapes are all known, why the tactic cannot run it (empty: it can); `prepare`
// makes the kernel for that node, doing once what does not depend on the input (packing the
// weights). The reference kernel of ops/ is always a candidate too and needs no entry here.
// The autotuner (backends/cpu/tuner.h) times every candidate on the node's real shapes.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "ops/interpreter.h"

namespace nnc::cpu {

struct Tactic {
  std::string_view name;  // "conv.im2col-gemm"
  OpKind op;
  std::string (*rejects)(const Graph& graph, const Node& node);
  std::shared_ptr<const NodeKernel> (*prepare)(const Graph& graph, const Node& node);
  // The relative L2 error against the reference kernel the tuner holds this tactic to; 0 means
  // the tuner's own (1e-4). Only reduced-precision tactics (f16 Tensor Cores) set it.
  double tolerance = 0;
};

// Every CPU tactic, in the order the tactic table lists them.
std::span<const Tactic> cpu_tactics();

// Every tactic the tuner and the plan loader know: the CPU's, then those other backends added
// (the CUDA backend adds its own when a device is in use: backends/cuda/tactics.h).
std::span<const Tactic> registered_tactics();
void register_tactics(std::span<const Tactic> more);

// Helpers for `rejects`: the constant value behind a node input, or nullptr.
const Tensor* constant_input(const Graph& graph, const Node& node, int input);
// What every conv tactic needs: why the Conv is not a 2-D f32 conv with known shapes and
// constant weights (and bias), or "" when it is.
std::string conv2d_rejects(const Graph& graph, const Node& node);

}  // namespace nnc::cpu
