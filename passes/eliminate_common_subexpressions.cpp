// passes/eliminate_common_subexpressions.cpp — compute each distinct value once.
//
//   before:  %s1  i64[4]  = Shape  %x          after:  %s1  i64[4]  = Shape  %x
//            %s2  i64[4]  = Shape  %x                  %a   ...     = Gather %s1, ...
//            %a   ...     = Gather %s1, ...            %b   ...     = Gather %s1, ...
//            %b   ...     = Gather %s2, ...
//
// Two nodes are the same computation when they have the same op, the same inputs in the same
// order and equal attributes: every nnc op is a pure function (no random ops are supported), so
// the later node's outputs can be replaced by the earlier one's. Equal constants (same dtype,
// dims and bytes) are merged first, so that nodes reading two copies of one constant match too.
// Walks in execution order, so the surviving node always comes first and dominates the uses.
// Refuses when the duplicate's output is a graph output (the output keeps its ONNX name), and
// skips nodes with subgraphs (If/Loop bodies are not compared).
#include "passes/eliminate_common_subexpressions.h"

#include <cstring>
#include <map>

#include "core/ir_text.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

bool same_computation(const Node& a, const Node& b) {
  if (a.op != b.op || a.inputs != b.inputs || a.attrs.size() != b.attrs.size() || a.outputs.size() != b.outputs.size())
    return false;
  for (size_t k = 0; k < a.outputs.size(); ++k)
    if ((a.outputs[k] == kNoValue) != (b.outputs[k] == kNoValue)) return false;
  return same_attributes(a, b);
}

// Merges constants with equal contents into the first of them. Returns how many went.
int merge_equal_constants(Graph& g, PassReport& report) {
  std::map<std::pair<uint32_t, size_t>, std::vector<ValueId>> by_digest;
  int merged = 0;
  for (ValueId c : g.consts()) {
    const Tensor* data = g.const_data(c);
    if (!data) continue;
    const auto key = std::make_pair(crc32(data->bytes(), data->nbytes()), data->nbytes());
    std::vector<ValueId>& same_digest = by_digest[key];
    bool replaced = false;
    for (ValueId earlier : same_digest)
      if (same_tensor(*g.const_data(earlier), *data) && !g.is_output(c)) {
        g.replace_uses(c, earlier);
        report.note("constant @{} equals @{}", g.value(c).name, g.value(earlier).name);
        ++merged;
        replaced = true;
        break;
      }
    if (!replaced) same_digest.push_back(c);
  }
  return merged;
}

}  // namespace

PassReport eliminate_common_subexpressions(Graph& g) {
  PassReport report("eliminate-common-subexpressions");
  const int constants_merged = merge_equal_constants(g, report);
  // Candidates are bucketed by (op, first input) so the comparison stays near-linear.
  std::map<std::pair<OpKind, ValueId>, std::vector<size_t>> seen;
  std::vector<bool> erase(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const ValueId first = n.inputs.empty() ? kNoValue : n.inputs[0];
    std::vector<size_t>& bucket = seen[{n.op, first}];
    const Node* twin = nullptr;
    for (size_t j : bucket)
      if (same_computation(g.nodes[j], n)) twin = &g.nodes[j];
    if (!twin) {
      bucket.push_back(i);
      continue;
    }
    bool output_kept = false;
    for (ValueId out : n.outputs) output_kept = output_kept || (out != kNoValue && g.is_output(out));
    if (output_kept) {
      report.refused(n, "it computes what '{}' does, but its output is a graph output", twin->name);
      bucket.push_back(i);
      continue;
    }
    for (size_t k = 0; k < n.outputs.size(); ++k)
      if (n.outputs[k] != kNoValue && twin->outputs[k] != kNoValue) g.replace_uses(n.outputs[k], twin->outputs[k]);
    report.rewrote(n, "computes what '{}' already did", twin->name);
    erase[i] = true;
  }
  g.erase_nodes(erase);
  report.summary("removed {} repeated computations, merged {} equal constants", report.rewrites(), constants_merged);
  if (constants_merged > 0 && report.rewrites() == 0) report.count_change();
  return report;
}

}  // namespace nnc
