// passes/eliminate_concat.cpp — let the producers of a Concat's inputs write straight into their
// slice of its output, so the Concat copies nothing.
//
//   before:  %up   f32[1,16,40,40]  = Resize  %h, ...
//            %e1   f32[1,16,40,40]  = Conv    %x, @w, @b  act="Relu"
//            %cat  f32[1,32,40,40]  = Concat  %up, %e1  axis=1
//   after:   %cat  f32[1,32,40,40]  = Concat  %up, %e1  axis=1 zero_copy=1
//
// `zero_copy=1` is a promise to the memory planner (passes/plan_memory.h): it places %up at
// offset 0 of %cat's buffer and %e1 right after it, and the planned executor skips the node. The
// node stays in the graph so that the IR still says where %cat comes from, and a run without the
// plan (-O0 semantics, the interpreter's keep-everything mode) simply copies.
//
// Legal when each input is a contiguous block of the output, i.e. every dim before `axis` is 1
// (NCHW with N = 1 and axis 1: U-Net skip connections), and each input can live in exactly one
// place: produced by a node of this graph (not a graph input or constant, which exist already),
// not a graph output, read by no other zero-copy Concat, not repeated, not itself a zero-copy
// Concat's output. Refusals say which rule failed (--explain eliminate-concat).
#include "passes/eliminate_concat.h"

#include <set>

#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// Why the Concat cannot be zero-copy, or "" if it can. `claimed` holds values already placed
// inside another zero-copy Concat.
std::string why_not(const Graph& g, const Uses& uses, const Node& n, const std::set<ValueId>& claimed,
                    const std::set<ValueId>& zero_copy_outputs) {
  const TensorType& out = g.type(n.outputs[0]);
  if (!out.shape.fully_known()) return "its shape is not fully known";
  if (g.is_output(n.outputs[0])) return fmt::format("'{}' is a graph output and keeps its own buffer", g.value(n.outputs[0]).name);
  const Dims dims = out.shape.concrete();
  int64_t axis = attr_int(n, "axis");
  if (axis < 0) axis += int64_t(dims.size());
  int64_t leading = 1;
  for (int64_t d = 0; d < axis; ++d) leading *= dims[size_t(d)];
  if (leading != 1)
    return fmt::format("its inputs are strided slices (the dims before axis {} multiply to {}); producers write contiguous outputs",
                       axis, leading);
  std::set<ValueId> seen;
  for (ValueId v : n.inputs) {
    const std::string& name = g.value(v).name;
    if (!seen.insert(v).second) return fmt::format("'{}' appears twice and cannot live in two places", name);
    const Node* producer = uses.producer_of(g, v);
    if (!producer) return fmt::format("'{}' is a graph input or constant, which has its own storage", name);
    if (op_def(producer->op).allocates_outputs) return fmt::format("'{}' comes from {}, which allocates its own output", name, op_name(producer->op));
    if (g.is_output(v)) return fmt::format("'{}' is also a graph output", name);
    if (claimed.contains(v)) return fmt::format("'{}' already lives inside another Concat's output", name);
    if (zero_copy_outputs.contains(v)) return fmt::format("'{}' is itself a zero-copy Concat's output", name);
    if (!g.type(v).shape.fully_known()) return fmt::format("'{}' has an unknown shape", name);
  }
  return "";
}

}  // namespace

PassReport eliminate_concat(Graph& g) {
  PassReport report("eliminate-concat");
  const Uses uses(g);
  std::set<ValueId> claimed, zero_copy_outputs;
  size_t bytes_saved = 0;
  int kept = 0;
  for (Node& n : g.nodes)
    if (n.op == OpKind::Concat && attr_int(n, "zero_copy") != 0) {
      zero_copy_outputs.insert(n.outputs[0]);
      claimed.insert(n.inputs.begin(), n.inputs.end());
    }
  for (Node& n : g.nodes) {
    if (n.op != OpKind::Concat || attr_int(n, "zero_copy") != 0) continue;
    if (const std::string why = why_not(g, uses, n, claimed, zero_copy_outputs); !why.empty()) {
      report.refused(n, "{}", why);
      ++kept;
      continue;
    }
    n.set_attr("zero_copy", int64_t{1});
    claimed.insert(n.inputs.begin(), n.inputs.end());
    zero_copy_outputs.insert(n.outputs[0]);
    const TensorType& t = g.type(n.outputs[0]);
    const size_t bytes = size_t(product(t.shape.concrete())) * dtype_size(t.dtype);
    bytes_saved += bytes;
    report.rewrote(n, "its {} inputs are written in place into '{}' ({} bytes not copied)", n.inputs.size(),
                   g.value(n.outputs[0]).name, bytes);
  }
  report.summary("{} Concats became zero-copy ({:.1f} MiB of copies saved per run); {} kept (see --explain eliminate-concat)",
                 report.rewrites(), double(bytes_saved) / (1 << 20), kept);
  return report;
}

}  // namespace nnc
