// core/ir_dot.cpp — the graph as Graphviz `dot` text, for `nnc compile --dump-passes`.
//
// Activations are edges labelled with their type; nodes are boxes with the op and node name;
// graph inputs and outputs are ellipses. Constants are folded into the node label ("+2 const")
// because a U2Net has hundreds of weights and drawing them hides the structure.
#include "core/ir_text.h"

namespace nnc {
namespace {

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string print_dot(const Graph& g) {
  std::string out = fmt::format("digraph {} {{\n  rankdir=TB;\n  node [fontname=\"monospace\", fontsize=10];\n",
                                quoted(g.name));
  std::vector<int> producer = g.producers();
  for (ValueId v : g.inputs)
    out += fmt::format("  {} [shape=ellipse, label={}];\n", quoted("in:" + g.value(v).name),
                       quoted(g.value(v).name + "\n" + to_string(g.type(v))));
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    int constants = 0;
    for (ValueId v : n.inputs) constants += g.is_const(v) ? 1 : 0;
    std::string label = fmt::format("{}\n{}", op_name(n.op), n.name);
    if (const AttrValue* act = n.find_attr("act")) label += fmt::format("\nact={}", std::get<std::string>(*act));
    if (constants > 0) label += fmt::format("\n+{} const", constants);
    out += fmt::format("  n{} [shape=box, label={}];\n", i, quoted(label));
    for (ValueId v : n.inputs) {
      if (v == kNoValue || g.is_const(v)) continue;
      const std::string from = producer[size_t(v)] >= 0 ? fmt::format("n{}", producer[size_t(v)])
                                                        : quoted("in:" + g.value(v).name);
      out += fmt::format("  {} -> n{} [label={}];\n", from, i, quoted(to_string(g.type(v))));
    }
  }
  for (ValueId v : g.outputs) {
    out += fmt::format("  {} [shape=ellipse, label={}];\n", quoted("out:" + g.value(v).name), quoted(g.value(v).name));
    const std::string from = producer[size_t(v)] >= 0 ? fmt::format("n{}", producer[size_t(v)])
                                                      : quoted("in:" + g.value(v).name);
    out += fmt::format("  {} -> {};\n", from, quoted("out:" + g.value(v).name));
  }
  return out + "}\n";
}

}  // namespace nnc
