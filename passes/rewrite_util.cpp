// passes/rewrite_util.cpp — see rewrite_util.h.
#include "passes/rewrite_util.h"

#include <cmath>
#include <cstring>

namespace nnc {

std::optional<double> scalar_constant(const Graph& g, ValueId v) {
  const Tensor* t = g.const_data(v);
  if (!t || t->numel() != 1) return std::nullopt;
  return t->get_double(0);
}

bool is_arithmetic_with_constant(const Graph& g, const Node& n, bool scalar_only) {
  if (n.op != OpKind::Mul && n.op != OpKind::Add && n.op != OpKind::Sub && n.op != OpKind::Div) return false;
  if (n.inputs.size() != 2) return false;
  const Tensor* a = g.const_data(n.inputs[0]);
  const Tensor* b = g.const_data(n.inputs[1]);
  if ((a != nullptr) == (b != nullptr)) return false;
  return !scalar_only || (a ? a : b)->numel() == 1;
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

bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.dims() == b.dims() && std::memcmp(a.bytes(), b.bytes(), a.nbytes()) == 0;
}

namespace {

bool same_attr(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&]<typename T>(const T& value) {
        if constexpr (std::is_same_v<T, Tensor>) return same_tensor(value, std::get<Tensor>(b));
        else if constexpr (std::is_same_v<T, std::shared_ptr<Graph>>) return false;  // bodies are not compared
        else return value == std::get<T>(b);
      },
      a);
}

}  // namespace

bool same_attributes(const Node& a, const Node& b) {
  if (a.attrs.size() != b.attrs.size()) return false;
  for (const Attribute& attr : a.attrs) {
    const AttrValue* other = b.find_attr(attr.name);
    if (!other || !same_attr(attr.value, *other)) return false;
  }
  return true;
}

}  // namespace nnc
