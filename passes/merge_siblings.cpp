// passes/merge_siblings.cpp — horizontal merging: sibling ops that read the same input with
// constant weights become one wider op whose output is split back.
//
//   before:  %q  f32[2,16,64]  = MatMul  %x, @wq, @bq          after:  %qkv  f32[2,16,192] = MatMul  %x, @wqkv, @bqkv
//            %k  f32[2,16,64]  = MatMul  %x, @wk, @bk                  %q, %k, %v        = Split   %qkv, @sizes  axis=-1
//            %v  f32[2,16,64]  = MatMul  %x, @wv, @bv
//
// One GEMM with N = 192 instead of three with N = 64 reads %x once and keeps the machine busier
// (TensorRT does this for Q/K/V projections and multi-head outputs). Siblings must agree on
// everything but the output width: MatMul with a constant 2-D weight [K, N_i] (bias and act
// equal in presence and kind), or Conv with constant weights and identical kernel_shape,
// strides, pads, dilations, group 1, auto_pad and act, and no residual. Conv siblings split on
// the channel axis, MatMul siblings on the last axis. Refusals are reported when a group exists
// but members differ.
#include "passes/merge_siblings.h"

#include <algorithm>
#include <map>

#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// Whether `n` could take part in a merge at all: a MatMul with a constant 2-D weight or an
// ungrouped Conv with constant weights and no residual, f32, biases (if any) constant.
bool candidate(const Graph& g, const Node& n) {
  if ((n.op != OpKind::MatMul && n.op != OpKind::Conv) || n.outputs.size() != 1) return false;
  const TensorType& y = g.type(n.outputs[0]);
  if (y.dtype != DType::F32 || !y.shape.fully_known()) return false;
  const Tensor* w = g.const_data(n.inputs[1]);
  if (!w || (n.has_input(2) && !g.const_data(n.inputs[2]))) return false;
  if (n.op == OpKind::MatMul) return w->rank() == 2;
  return !n.has_input(3) && w->rank() >= 3 && attr_int(n, "group") == 1;
}

// Siblings agree on everything but the output width: same op, input, bias presence and
// attributes (act included), and for Conv the same weight shape apart from the output channels.
bool siblings(const Graph& g, const Node& a, const Node& b) {
  if (a.op != b.op || a.inputs[0] != b.inputs[0] || a.has_input(2) != b.has_input(2) || !same_attributes(a, b)) return false;
  const Dims& wa = g.const_data(a.inputs[1])->dims();
  const Dims& wb = g.const_data(b.inputs[1])->dims();
  return a.op == OpKind::MatMul || std::equal(wa.begin() + 1, wa.end(), wb.begin() + 1, wb.end());
}

// Concatenates constants along `axis` (f32).
Tensor concat_f32(const std::vector<const Tensor*>& parts, int axis) {
  Dims dims = parts[0]->dims();
  dims[size_t(axis)] = 0;
  for (const Tensor* p : parts) dims[size_t(axis)] += p->dims()[size_t(axis)];
  Tensor out(DType::F32, dims);
  const int64_t outer = product(std::span(dims).first(size_t(axis)));
  float* o = out.data<float>();
  for (int64_t i = 0; i < outer; ++i)
    for (const Tensor* p : parts) {
      const int64_t block = p->numel() / outer;
      std::copy_n(p->data<float>() + i * block, block, o);
      o += block;
    }
  return out;
}

}  // namespace

PassReport merge_siblings(Graph& g) {
  PassReport report("merge-siblings");
  std::vector<std::vector<int>> groups;  // node indices, each group in graph order
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!candidate(g, g.nodes[i])) continue;
    auto group = std::find_if(groups.begin(), groups.end(),
                              [&](const std::vector<int>& grp) { return siblings(g, g.nodes[size_t(grp[0])], g.nodes[i]); });
    if (group != groups.end()) group->push_back(int(i));
    else groups.push_back({int(i)});
  }
  // Groups reading the same input that could not merge with each other: say why not.
  for (size_t a = 0; a < groups.size(); ++a)
    for (size_t b = a + 1; b < groups.size(); ++b) {
      const Node& first = g.nodes[size_t(groups[a][0])];
      const Node& other = g.nodes[size_t(groups[b][0])];
      if (first.op == other.op && first.inputs[0] == other.inputs[0])
        report.refused(other, "reads '{}' like '{}', but the two differ in attributes, weight shape, bias or act; only identical {}s merge",
                       g.value(first.inputs[0]).name, first.name, op_name(first.op));
    }
  std::vector<bool> erase(g.nodes.size(), false);
  std::map<int, Node> split_after;  // node index -> the Split to insert after it
  int merged_ops = 0;
  for (const std::vector<int>& members : groups) {
    if (members.size() < 2) continue;
    Node first = g.nodes[size_t(members[0])];
    const bool is_conv = first.op == OpKind::Conv;
    const int weight_axis = is_conv ? 0 : 1;
    std::vector<const Tensor*> weights, biases;
    std::vector<int64_t> widths;
    std::vector<ValueId> outputs;
    for (int m : members) {
      const Node& n = g.nodes[size_t(m)];
      weights.push_back(g.const_data(n.inputs[1]));
      if (n.has_input(2)) biases.push_back(g.const_data(n.inputs[2]));
      widths.push_back(weights.back()->dims()[size_t(weight_axis)]);
      outputs.push_back(n.outputs[0]);
    }
    const std::string base = g.unique_value_name(g.value(outputs[0]).name + ".merged");
    Node merged = first;
    merged.name = g.unique_node_name(first.name + ".merged");
    merged.inputs[1] = g.add_const(base + ".weight", concat_f32(weights, weight_axis));
    if (!biases.empty()) merged.inputs[2] = g.add_const(base + ".bias", concat_f32(biases, 0));
    Dims merged_dims = g.type(outputs[0]).shape.concrete();
    const int split_axis = is_conv ? 1 : int(merged_dims.size()) - 1;
    int64_t total = 0;
    for (int64_t w : widths) total += w;
    merged_dims[size_t(split_axis)] = total;
    const ValueId merged_out = g.add_value(base, TensorType{DType::F32, Shape(merged_dims)});
    merged.outputs = {merged_out};
    merged.sources.clear();
    for (int m : members)
      for (const std::string& s : g.nodes[size_t(m)].sources) merged.sources.push_back(s);
    Node split{.op = OpKind::Split, .name = g.unique_node_name(first.name + ".split"), .inputs = {merged_out,
               g.add_const(base + ".sizes", Tensor::from_vector<int64_t>({int64_t(widths.size())}, widths))},
               .outputs = outputs, .attrs = {}, .sources = {"merge-siblings"}};
    split.set_attr("axis", int64_t(split_axis));
    report.rewrote(first, "{} sibling {}s reading '{}' merged into one of width {} (widths {})", members.size(),
                   op_name(first.op), g.value(first.inputs[0]).name, total, fmt::join(widths, ", "));
    merged_ops += int(members.size());
    g.nodes[size_t(members[0])] = std::move(merged);
    split_after[members[0]] = std::move(split);
    for (size_t k = 1; k < members.size(); ++k) erase[size_t(members[k])] = true;
  }
  if (!split_after.empty()) {
    std::vector<Node> nodes;
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (erase[i]) continue;
      nodes.push_back(std::move(g.nodes[i]));
      if (auto it = split_after.find(int(i)); it != split_after.end()) nodes.push_back(std::move(it->second));
    }
    g.nodes = std::move(nodes);
  }
  report.summary("merged {} sibling ops into {}", merged_ops, split_after.size());
  return report;
}

}  // namespace nnc
