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

#include <map>

#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// What siblings must share to merge: a printable key of op, attributes and input presence.
std::string merge_key(const Graph& g, const Node& n) {
  if (n.outputs.size() != 1 || g.type(n.outputs[0]).dtype != DType::F32 || !g.type(n.outputs[0]).shape.fully_known()) return "";
  const Tensor* w = g.const_data(n.inputs.size() > 1 ? n.inputs[1] : kNoValue);
  if (!w) return "";
  if (n.has_input(2) && !g.const_data(n.inputs[2])) return "";
  std::string key = fmt::format("{} in={} bias={}", op_name(n.op), n.inputs[0], n.has_input(2));
  if (n.op == OpKind::MatMul) {
    if (w->rank() != 2) return "";
  } else if (n.op == OpKind::Conv) {
    if (n.has_input(3) || w->rank() < 3 || (n.has_attr("group") && attr_int(n, "group") != 1)) return "";
    key += fmt::format(" w={}", to_string(Dims(w->dims().begin() + 1, w->dims().end())));
  } else {
    return "";
  }
  for (const Attribute& a : n.attrs) {
    std::string value;
    std::visit([&](const auto& v) {
      using V = std::decay_t<decltype(v)>;
      if constexpr (std::is_same_v<V, int64_t> || std::is_same_v<V, float> || std::is_same_v<V, std::string>) value = fmt::format("{}", v);
      else if constexpr (std::is_same_v<V, std::vector<int64_t>> || std::is_same_v<V, std::vector<float>>) value = fmt::format("{}", fmt::join(v, ","));
      else value = "?";
    }, a.value);
    key += " " + a.name + "=" + value;
  }
  return key;
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
  std::map<std::string, std::vector<int>> groups;
  std::vector<std::string> order;
  std::map<std::pair<OpKind, ValueId>, std::vector<std::string>> keys_per_input;  // for refusals
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const std::string key = merge_key(g, g.nodes[i]);
    if (key.empty()) continue;
    if (!groups.contains(key)) {
      order.push_back(key);
      keys_per_input[{g.nodes[i].op, g.nodes[i].inputs[0]}].push_back(key);
    }
    groups[key].push_back(int(i));
  }
  for (const auto& [op_input, keys] : keys_per_input)
    if (keys.size() > 1)
      report.refused(g.nodes[size_t(groups[keys[0]][0])],
                     "{} {}s read '{}' but differ in attributes, weight shape, bias or act; only identical ones merge",
                     keys.size(), op_name(op_input.first), g.value(op_input.second).name);
  std::vector<bool> erase(g.nodes.size(), false);
  std::map<int, Node> split_after;  // node index -> the Split to insert after it
  int merged_ops = 0;
  for (const std::string& key : order) {
    const std::vector<int>& members = groups[key];
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
