// passes/index_probe.h — proving a rewrite by running the nodes it replaces on index tensors.
//
// A pattern pass that meets data movement spelled in one of many ways (Reshape, Transpose,
// Split, Gather, Concat ...) need not match every spelling: it can run those nodes, with the
// reference kernels, on a tensor holding its own element indices (an "iota") and read off where
// every element went. fuse-deform-attn and fuse-deform-conv prove their rewrites this way.
#pragma once

#include <map>
#include <vector>

#include "core/graph.h"

namespace nnc {

// Ops that only move elements (one dynamic input; shapes, axes and indices constant).
bool is_relayout(OpKind op);

// A tensor of `dims` whose element i holds i. I64 is exact at any size; F32 below 2^24.
Tensor iota(const Dims& dims, DType dtype = DType::I64);

// Runs `nodes` (graph indices, executed in graph order) given values for their dynamic inputs;
// constants come from the graph. Returns every value known afterwards.
std::map<ValueId, Tensor> run_nodes(const Graph& g, std::vector<int> nodes, std::map<ValueId, Tensor> known);

}  // namespace nnc
