// passes/eliminate_dead_code.cpp — drop nodes nothing reads, and constants nothing uses.
//
//   before:  %a  f32[4]  = Relu  %x
//            %b  f32[4]  = Neg   %a      <- read by nobody, not a graph output
//            return %a
//   after:   %a  f32[4]  = Relu  %x
//            return %a
//
// Walks the nodes backwards, so a chain of dead nodes goes in one run. A node is live if any
// of its outputs is a graph output or is read by a live node. Subgraphs capture values by name,
// so a value a subgraph reads keeps its producer alive. Ops have no side effects in nnc.
#include "passes/eliminate_dead_code.h"

#include <set>

namespace nnc {
namespace {

void collect_captured(const Graph& g, std::set<std::string>& names) {
  for (const Value& v : g.values)
    if (v.kind == ValueKind::Outer) names.insert(v.name);
  for (const Node& n : g.nodes)
    for (const Attribute& a : n.attrs)
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value); sub && *sub) collect_captured(**sub, names);
}

}  // namespace

PassReport eliminate_dead_code(Graph& g) {
  PassReport report("eliminate-dead-code");
  std::vector<bool> live_value(g.values.size(), false);
  for (ValueId v : g.outputs) live_value[size_t(v)] = true;
  std::set<std::string> captured;
  for (const Node& n : g.nodes)
    for (const Attribute& a : n.attrs)
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value); sub && *sub) collect_captured(**sub, captured);
  for (const std::string& name : captured)
    if (const ValueId v = g.find(name); v != kNoValue) live_value[size_t(v)] = true;

  std::vector<bool> remove(g.nodes.size(), false);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const Node& n = g.nodes[i];
    bool live = false;
    for (ValueId v : n.outputs) live = live || (v != kNoValue && live_value[size_t(v)]);
    if (!live) {
      remove[i] = true;
      report.rewrote(n, "no output is used");
      continue;
    }
    for (ValueId v : n.inputs)
      if (v != kNoValue) live_value[size_t(v)] = true;
  }
  const size_t constants_before = g.consts().size();
  g.erase_nodes(remove);
  g.compact_values();
  const size_t constants_dropped = constants_before - g.consts().size();
  if (constants_dropped > 0) report.count_change();
  report.summary("removed {} dead nodes and {} unused constants", report.rewrites(), constants_dropped);
  return report;
}

}  // namespace nnc
