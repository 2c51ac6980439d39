// passes/rewrite_util.cpp — see rewrite_util.h.
#include "passes/rewrite_util.h"

#include <cmath>

namespace nnc {

std::optional<double> scalar_constant(const Graph& g, ValueId v) {
  const Tensor* t = g.const_data(v);
  if (!t || t->numel() != 1) return std::nullopt;
  return t->get_double(0);
}

bool is_constant_near(const Graph& g, ValueId v, double expected) {
  const Tensor* t = g.const_data(v);
  if (!t || t->numel() == 0) return false;
  for (int64_t i = 0; i < t->numel(); ++i)
    if (std::abs(t->get_double(i) - expected) > 1e-6 * std::max(1.0, std::abs(expected))) return false;
  return true;
}

ValueId other_input(const Node& n, ValueId known) {
  if (n.inputs.size() != 2) return kNoValue;
  if (n.inputs[0] == known && n.inputs[1] != known) return n.inputs[1];
  if (n.inputs[1] == known && n.inputs[0] != known) return n.inputs[0];
  return kNoValue;
}

bool only_used_inside(const Graph& g, const Uses& uses, const std::set<int>& inner, int root) {
  for (int index : inner)
    for (ValueId out : g.nodes[size_t(index)].outputs) {
      if (out == kNoValue) continue;
      if (g.is_output(out)) return false;
      for (int reader : uses.consumers[size_t(out)])
        if (reader != root && !inner.contains(reader)) return false;
    }
  return true;
}

void replace_pattern(Graph& g, int root, const std::set<int>& inner, Node replacement, std::vector<bool>& erase) {
  std::set<int> all = inner;
  all.insert(root);
  replacement.sources.clear();
  for (int index : all)
    for (const std::string& s : g.nodes[size_t(index)].sources) replacement.sources.push_back(s);
  replacement.outputs = g.nodes[size_t(root)].outputs;
  if (replacement.name.empty()) replacement.name = g.nodes[size_t(root)].name;
  g.nodes[size_t(root)] = std::move(replacement);
  for (int index : inner) erase[size_t(index)] = true;
}

}  // namespace nnc
