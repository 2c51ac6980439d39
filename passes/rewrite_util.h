// passes/rewrite_util.h — the few graph queries every rewrite pass asks: who produces a value,
// who reads it, is it a small constant, may a matched pattern's inner values disappear.
//
// A `Uses` snapshot is taken once per walk and refreshed (`Uses(g)` again) after an edit that
// changes producers or consumers; passes that edit as they walk either refresh or mark nodes
// for erasure and erase at the end, so indices stay valid.
#pragma once

#include <optional>
#include <set>
#include <vector>

#include "core/graph.h"

namespace nnc {

struct Uses {
  explicit Uses(const Graph& g) : producer(g.producers()), consumers(g.consumers()) {}
  std::vector<int> producer;                 // per value: node index or -1
  std::vector<std::vector<int>> consumers;   // per value: reading node indices

  // The node producing `v`, if it is a node output.
  const Node* producer_of(const Graph& g, ValueId v) const {
    if (v == kNoValue || producer[size_t(v)] < 0) return nullptr;
    return &g.nodes[size_t(producer[size_t(v)])];
  }
  int producer_index(ValueId v) const { return v == kNoValue ? -1 : producer[size_t(v)]; }
  // True when exactly one node reads `v`, once, and `v` is not a graph output.
  bool single_use(const Graph& g, ValueId v) const {
    return consumers[size_t(v)].size() == 1 && !g.is_output(v);
  }
};

// The value of a constant with exactly one element (any dtype), else nullopt.
std::optional<double> scalar_constant(const Graph& g, ValueId v);
// Mul, Add, Sub or Div with exactly one constant operand; with `scalar_only`, a one-element one.
// The elementwise steps that relayout proofs (fuse-deform-attn, fuse-deform-conv) may follow.
bool is_arithmetic_with_constant(const Graph& g, const Node& n, bool scalar_only);
// Whether `v` is a constant whose every element equals `expected` (within 1e-6 relative).
bool is_constant_near(const Graph& g, ValueId v, double expected);
// For a two-input node, the input that is not `known` (kNoValue if neither or both are it).
ValueId other_input(const Node& n, ValueId known);

// True when every value produced by the nodes in `inner` is read only by nodes in
// `inner ∪ {root}` and none is a graph output: replacing the pattern by one node that produces
// root's outputs then loses nothing.
bool only_used_inside(const Graph& g, const Uses& uses, const std::set<int>& inner, int root);

// Equal dtype, dims and bytes.
bool same_tensor(const Tensor& a, const Tensor& b);
// The same attributes with equal values, in any order (subgraph attributes never compare equal).
bool same_attributes(const Node& a, const Node& b);

// Replaces the matched pattern: node `root` becomes `replacement` (same outputs), and the
// `inner` nodes are flagged in `erase`. Provenance: the replacement's sources are those of all
// matched nodes, in graph order.
void replace_pattern(Graph& g, int root, const std::set<int>& inner, Node replacement, std::vector<bool>& erase);

}  // namespace nnc
