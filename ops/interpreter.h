// ops/interpreter.h — runs a Graph node by node with the reference kernels.
//
// This is nnc's ground truth (-O0): constant folding evaluates with it, conformance runs on it,
// and optimized plans are compared against it. For each node it infers output shapes from the
// actual inputs, allocates outputs, runs the op's reference kernel, and frees every tensor after
// its last use so that big models run in bounded memory.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "core/graph.h"
#include "core/memory_plan.h"
#include "ops/op_def.h"

namespace nnc {

// Looks up a value captured by a subgraph in the enclosing scopes; nullptr if not found.
using OuterLookup = std::function<const Tensor*(const std::string& name)>;

// Called after each node with each of its outputs (for `--dump-tensor`, `nnc compare`).
using TensorTap = std::function<void(const Node&, int output_index, const Tensor&)>;

// A kernel chosen for one node at compile time (a fast tactic of backends/, its weights already
// packed); it runs instead of the op's reference kernel and must compute the same function. It
// must write every element of its outputs: the runtime does not zero them first.
class NodeKernel {
 public:
  virtual ~NodeKernel() = default;
  virtual void run(KernelContext& k) const = 0;
  virtual std::string_view tactic() const = 0;
  // Bytes the kernel keeps for itself (weights packed or transformed for it): the workspace
  // `nnc compile` reports next to the weights and the arena.
  virtual int64_t held_bytes() const { return 0; }
};

// Called after each node with its wall time in milliseconds (for `nnc bench --profile`).
using NodeTimer = std::function<void(size_t node_index, double ms)>;

// Called before each node of the top-level graph with the tensors it will read (a zero-copy
// Concat the memory plan skips included): a runtime that keeps some tensors in another memory
// (the CUDA backend's device residency) brings them up to date here.
using BeforeNode = std::function<void(size_t node_index, std::span<const Tensor* const> inputs)>;

struct InterpreterOptions {
  TensorTap tap;
  BeforeNode before_node;
  // Also keep every intermediate alive until the end (tests, debugging). Ignores `plan`.
  bool keep_intermediates = false;
  // Place intermediates in one arena as planned (passes/plan_memory.h), run outputs in place and
  // skip zero-copy Concats. Must have been made for this graph.
  const MemoryPlan* plan = nullptr;
  // Storage for the plan's arena, at least plan->arena_bytes, that a caller keeps between runs
  // (a fresh arena's pages fault in on first touch: milliseconds per inference on big images).
  // Graph outputs never live in the arena, so what a run returns survives the next run.
  // Null: the run allocates its own.
  std::shared_ptr<std::byte> arena;
  // One entry per node of the top-level graph: the kernel to run, or nullptr for the reference
  // kernel. Empty: reference kernels throughout.
  std::span<const NodeKernel* const> kernels;
  NodeTimer timer;
};

// Makes the storage for output `index` of a node (type already inferred); run_node's default
// allocates a fresh zero-filled tensor.
using OutputAllocator = std::function<Tensor(int index, const TensorType& type)>;

// Runs `graph` on `inputs` (one per graph input, in order) and returns its outputs in order.
// Throws BadInput when an input's dtype or shape disagrees with the graph's declaration.
std::vector<Tensor> run_reference(const Graph& graph, std::span<const Tensor> inputs,
                                  const InterpreterOptions& options = {},
                                  const OuterLookup& outer = nullptr);

// Names that the node's subgraphs (If/Loop bodies, at any depth) read from enclosing scopes: the
// node reads those values too, as far as lifetimes are concerned.
std::vector<std::string> captured_names(const Node& node);

// Runs one node's kernel on concrete inputs: infer, allocate, compute. `inputs` holds nullptr
// for omitted optional inputs. Used by the interpreter and by constant folding.
// `kernel`, when given, runs instead of the reference kernel.
std::vector<Tensor> run_node(const Node& node, std::span<const Tensor* const> inputs, int opset,
                             const OuterLookup& outer = nullptr, const OutputAllocator& allocate = nullptr,
                             const NodeKernel* kernel = nullptr);

}  // namespace nnc
