// ops/shape_inference.h — types and shapes for every value, and the IR verifier.
#pragma once

#include <functional>

#include "core/graph.h"

namespace nnc {

// Type of a value captured from an enclosing graph, by name; nullptr if unknown.
using OuterTypeLookup = std::function<const TensorType*(const std::string& name)>;

// Walks the nodes in order and sets each output's type from the op's infer(), feeding constant
// inputs' values so shape arithmetic (Reshape targets, Resize sizes) is exact. Recurses into
// subgraphs. Throws BadInput naming the node on any mismatch.
void infer_types(Graph& graph, const OuterTypeLookup& outer = nullptr);

// Checks that the graph is well formed: every operand defined before use (topological order),
// every value produced once (SSA), input/output counts within the op's schema, attribute types
// as declared, outputs defined, and declared types equal to what inference gives. Throws
// Internal for broken invariants a pass introduced, BadInput for ones a file introduced
// (`from_file`).
void verify(const Graph& graph, bool from_file = false, const OuterTypeLookup& outer = nullptr);

}  // namespace nnc
