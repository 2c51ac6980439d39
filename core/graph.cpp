#include "core/graph.h"

#include <algorithm>

namespace nnc {

AttrType attr_type(const AttrValue& v) { return AttrType(v.index()); }

std::string_view attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::Int: return "int";
    case AttrType::Float: return "float";
    case AttrType::String: return "string";
    case AttrType::Ints: return "ints";
    case AttrType::Floats: return "floats";
    case AttrType::Strings: return "strings";
    case AttrType::Tensor: return "tensor";
    case AttrType::Graph: return "graph";
  }
  return "?";
}

const AttrValue* Node::find_attr(std::string_view attr_name) const {
  for (const Attribute& a : attrs)
    if (a.name == attr_name) return &a.value;
  return nullptr;
}

void Node::set_attr(std::string attr_name, AttrValue value) {
  for (Attribute& a : attrs)
    if (a.name == attr_name) {
      a.value = std::move(value);
      return;
    }
  attrs.push_back({std::move(attr_name), std::move(value)});
}

bool Node::erase_attr(std::string_view attr_name) {
  const auto it = std::find_if(attrs.begin(), attrs.end(),
                               [&](const Attribute& a) { return a.name == attr_name; });
  if (it == attrs.end()) return false;
  attrs.erase(it);
  return true;
}

int Node::input_count() const {
  int n = int(inputs.size());
  while (n > 0 && inputs[size_t(n) - 1] == kNoValue) --n;
  return n;
}

std::string describe(const Node& node) {
  return fmt::format("node '{}' ({})", node.name, op_name(node.op));
}

void Graph::index_name(ValueId id) {
  const std::string& n = values[size_t(id)].name;
  check_internal(!name_index_.contains(n), "Graph: duplicate value name");
  name_index_[n] = id;
}

static ValueId push_value(std::vector<Value>& values, Value v) {
  values.push_back(std::move(v));
  return ValueId(values.size() - 1);
}

ValueId Graph::add_input(std::string value_name, TensorType type) {
  const ValueId id = push_value(values, Value{std::move(value_name), std::move(type), ValueKind::Input, nullptr, ""});
  index_name(id);
  inputs.push_back(id);
  return id;
}

ValueId Graph::add_const(std::string value_name, Tensor data, std::string data_text) {
  TensorType type = data.type();
  auto shared = std::make_shared<const Tensor>(std::move(data));
  const ValueId id = push_value(values, Value{std::move(value_name), std::move(type), ValueKind::Const,
                                              std::move(shared), std::move(data_text)});
  index_name(id);
  return id;
}

ValueId Graph::add_outer(std::string value_name, TensorType type) {
  const ValueId id = push_value(values, Value{std::move(value_name), std::move(type), ValueKind::Outer, nullptr, ""});
  index_name(id);
  return id;
}

ValueId Graph::add_value(std::string value_name, TensorType type) {
  const ValueId id = push_value(values, Value{std::move(value_name), std::move(type), ValueKind::NodeOutput, nullptr, ""});
  index_name(id);
  return id;
}

Node& Graph::add_node(OpKind op, std::string node_name, std::vector<ValueId> node_inputs,
                      std::vector<ValueId> node_outputs, std::vector<Attribute> attrs) {
  Node n;
  n.op = op;
  n.name = std::move(node_name);
  n.inputs = std::move(node_inputs);
  n.outputs = std::move(node_outputs);
  n.attrs = std::move(attrs);
  nodes.push_back(std::move(n));
  return nodes.back();
}

std::string Graph::unique_value_name(std::string_view base) const {
  std::string candidate(base);
  for (int i = 1; name_index_.contains(candidate); ++i) candidate = fmt::format("{}.{}", base, i);
  return candidate;
}

std::string Graph::unique_node_name(std::string_view base) const {
  auto taken = [&](const std::string& s) {
    return std::any_of(nodes.begin(), nodes.end(), [&](const Node& n) { return n.name == s; });
  };
  std::string candidate(base);
  for (int i = 1; taken(candidate); ++i) candidate = fmt::format("{}.{}", base, i);
  return candidate;
}

ValueId Graph::find(std::string_view value_name) const {
  const auto it = name_index_.find(std::string(value_name));
  return it == name_index_.end() ? kNoValue : it->second;
}

const Tensor* Graph::const_data(ValueId id) const {
  if (!is_const(id)) return nullptr;
  return value(id).data.get();
}

std::vector<ValueId> Graph::consts() const {
  std::vector<ValueId> out;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].kind == ValueKind::Const) out.push_back(ValueId(i));
  return out;
}

int Graph::count(OpKind op) const {
  return int(std::count_if(nodes.begin(), nodes.end(), [&](const Node& n) { return n.op == op; }));
}

std::vector<int> Graph::producers() const {
  std::vector<int> out(values.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (ValueId v : nodes[i].outputs)
      if (v != kNoValue) out[size_t(v)] = int(i);
  return out;
}

std::vector<std::vector<int>> Graph::consumers() const {
  std::vector<std::vector<int>> out(values.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    for (ValueId v : nodes[i].inputs)
      if (v != kNoValue) out[size_t(v)].push_back(int(i));
  return out;
}

bool Graph::is_output(ValueId id) const {
  return std::find(outputs.begin(), outputs.end(), id) != outputs.end();
}

void Graph::rename_value(ValueId id, std::string new_name) {
  name_index_.erase(values.at(size_t(id)).name);
  values[size_t(id)].name = std::move(new_name);
  index_name(id);
}

void Graph::replace_uses(ValueId from, ValueId to) {
  for (Node& n : nodes)
    for (ValueId& v : n.inputs)
      if (v == from) v = to;
  for (ValueId& v : outputs)
    if (v == from) v = to;
}

void Graph::erase_nodes(const std::vector<bool>& remove) {
  std::vector<Node> kept;
  kept.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!remove[i]) kept.push_back(std::move(nodes[i]));
  nodes = std::move(kept);
}

void Graph::compact_values() {
  std::vector<bool> used(values.size(), false);
  for (ValueId v : inputs) used[size_t(v)] = true;
  for (ValueId v : outputs) used[size_t(v)] = true;
  for (const Node& n : nodes) {
    for (ValueId v : n.inputs)
      if (v != kNoValue) used[size_t(v)] = true;
    for (ValueId v : n.outputs)
      if (v != kNoValue) used[size_t(v)] = true;
  }
  std::vector<ValueId> remap(values.size(), kNoValue);
  std::vector<Value> kept;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = ValueId(kept.size());
    kept.push_back(std::move(values[i]));
  }
  auto fix = [&](ValueId& v) {
    if (v != kNoValue) v = remap[size_t(v)];
  };
  for (ValueId& v : inputs) fix(v);
  for (ValueId& v : outputs) fix(v);
  for (Node& n : nodes) {
    for (ValueId& v : n.inputs) fix(v);
    for (ValueId& v : n.outputs) fix(v);
  }
  values = std::move(kept);
  name_index_.clear();
  for (size_t i = 0; i < values.size(); ++i) index_name(ValueId(i));
}

}  // namespace nnc
