// passes/remove_identities.cpp — drop nodes that return their input unchanged.
//
//   before:  %d  f32[1,64]  = Dropout  %x
//            %y  f32[1,64]  = Relu     %d
//   after:   %y  f32[1,64]  = Relu     %x
//
// Removed: Identity; Dropout at inference (when its mask output is unused); Cast to the type the
// input already has; Reshape and Expand whose output shape equals the input's (all dims known).
// Refuses when the node's output is a graph output: the output must keep its ONNX name.
#include "passes/remove_identities.h"

namespace nnc {
namespace {

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
    default: return nullptr;
  }
}

}  // namespace

PassReport remove_identities(Graph& g) {
  PassReport report("remove-identities");
  std::vector<bool> remove(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
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
