// passes/remove_identities.cpp — drop nodes that return their input unchanged.
//
//   before:  %d  f32[1,64]  = Dropout  %x
//            %y  f32[1,64]  = Relu     %d
//   after:   %y  f32[1,64]  = Relu     %x
//
// Removed: Identity; Dropout at inference (when its mask output is unused); Cast to the type the
// input already has; Reshape and Expand whose output shape equals the input's (all dims known);
// a Transpose whose permutation is the identity. Two Transposes in a row compose into one:
//
//   before:  %t  f32[1,16,64]  = Transpose  %x   perm=[0,2,1]
//            %y  f32[1,64,16]  = Transpose  %t   perm=[0,2,1]
//   after:   (nothing: %y is %x)        and with perms that do not cancel, one Transpose.
//
// Refuses when the node's output is a graph output: the output must keep its ONNX name.
#include "passes/remove_identities.h"

#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// The permutation a Transpose applies (its default reverses the axes); empty if the rank is unknown.
std::vector<int64_t> permutation(const Graph& g, const Node& n) {
  const TensorType& in = g.type(n.inputs[0]);
  if (!in.shape.rank_known) return {};
  if (n.has_attr("perm")) return attr_ints(n, "perm");
  std::vector<int64_t> reversed;
  for (int64_t a = in.rank() - 1; a >= 0; --a) reversed.push_back(a);
  return reversed;
}

bool is_identity(const std::vector<int64_t>& perm) {
  for (size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != int64_t(i)) return false;
  return true;
}

// Why the node is a no-op, or nullptr if it is not one.
const char* no_op_reason(const Graph& g, const Node& n) {
  if (n.inputs.empty() || n.inputs[0] == kNoValue || n.outputs.empty() || n.outputs[0] == kNoValue) return nullptr;
  const TensorType& in = g.type(n.inputs[0]);
  const TensorType& out = g.type(n.outputs[0]);
  const bool same_type = in.dtype == out.dtype && in.shape.fully_known() && in.shape == out.shape;
  switch (n.op) {
    case OpKind::Identity: return "Identity";
    case OpKind::Dropout: {
      const bool mask_used = n.outputs.size() > 1 && n.outputs[1] != kNoValue;
      return mask_used ? nullptr : "Dropout does nothing at inference";
    }
    case OpKind::Cast:
    case OpKind::CastLike: return same_type ? "Cast to the type it already has" : nullptr;
    case OpKind::Reshape: return same_type ? "Reshape to the shape it already has" : nullptr;
    case OpKind::Expand: return same_type ? "Expand to the shape it already has" : nullptr;
    case OpKind::Transpose: {
      const std::vector<int64_t> perm = permutation(g, n);
      return !perm.empty() && is_identity(perm) ? "Transpose by the identity permutation" : nullptr;
    }
    default: return nullptr;
  }
}

}  // namespace

PassReport remove_identities(Graph& g) {
  PassReport report("remove-identities");
  std::vector<bool> remove(g.nodes.size(), false);
  const Uses uses(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    Node& n = g.nodes[i];
    // Transpose of a Transpose: read the first one's input with the composed permutation. The
    // first stays for its other readers, if any (dead-code elimination drops it otherwise).
    if (const Node* first = n.op == OpKind::Transpose ? uses.producer_of(g, n.inputs[0]) : nullptr;
        first && first->op == OpKind::Transpose && !remove[size_t(uses.producer_index(n.inputs[0]))]) {
      const std::vector<int64_t> inner = permutation(g, *first), outer = permutation(g, n);
      if (!inner.empty() && inner.size() == outer.size()) {
        std::vector<int64_t> composed;
        for (int64_t axis : outer) composed.push_back(inner[size_t(axis)]);
        const std::string first_name = first->name;
        n.inputs[0] = first->inputs[0];
        n.set_attr("perm", composed);
        n.sources.insert(n.sources.begin(), first->sources.begin(), first->sources.end());
        report.rewrote(n, "Transpose of Transpose '{}' composed into perm={}", first_name, to_string(composed));
      }
    }
    const char* reason = no_op_reason(g, n);
    if (!reason) continue;
    if (g.is_output(n.outputs[0])) {
      report.refused(n, "its output '{}' is a graph output and keeps its name", g.value(n.outputs[0]).name);
      continue;
    }
    g.replace_uses(n.outputs[0], n.inputs[0]);
    remove[i] = true;
    report.rewrote(n, "{}", reason);
  }
  g.erase_nodes(remove);
  report.summary("removed {} no-op nodes", report.rewrites());
  return report;
}

}  // namespace nnc
