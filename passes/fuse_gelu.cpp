// passes/fuse_gelu.cpp — recognise the GELU that exporters spell out and make it one Gelu node.
//
//   before:  %d  = Div  %x, @c1          (c1 = √2)        after:  %y = Gelu %x
//            %e  = Erf  %d
//            %a  = Add  %e, @one
//            %m  = Mul  %x, %a
//            %y  = Mul  %m, @half
//
//   tanh form (GELU(approximate='tanh')), after: %y = Gelu %x  approximate="tanh"
//            0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
//
// PyTorch (opsets 13-17) writes these chains; ONNX has a Gelu op only from opset 20. A product
// is matched as a multiset of factors, so any association order of the Muls matches
// ((x·a)·½, x·(a·½), (½·x)·a). Refuses when an inner value is used outside the pattern (it
// would have to be computed anyway) and says so.
#include "passes/fuse_gelu.h"

#include <cmath>

#include "passes/rewrite_util.h"

namespace nnc {
namespace {

struct Matcher {
  const Graph& g;
  const Uses& uses;
  std::set<int> inner;  // matched nodes other than the root

  const Node* node(ValueId v, OpKind op) {
    const Node* n = uses.producer_of(g, v);
    if (!n || n->op != op) return nullptr;
    inner.insert(uses.producer_index(v));
    return n;
  }
  // The factors of a product tree of Muls rooted at `v` (v itself if it is not a Mul).
  void factors(ValueId v, std::vector<ValueId>& out, bool is_root = false) {
    const Node* n = uses.producer_of(g, v);
    if (!n || n->op != OpKind::Mul || n->inputs.size() != 2) {
      out.push_back(v);
      return;
    }
    if (!is_root) inner.insert(uses.producer_index(v));
    factors(n->inputs[0], out);
    factors(n->inputs[1], out);
  }
  // Removes a constant factor near `value`; false if there is none.
  static bool take_constant(const Graph& g, std::vector<ValueId>& f, double value) {
    for (size_t i = 0; i < f.size(); ++i)
      if (is_constant_near(g, f[i], value)) {
        f.erase(f.begin() + std::ptrdiff_t(i));
        return true;
      }
    return false;
  }
  // `a` = 1 + inner(x), inner being Erf(x/√2) or Tanh(√(2/π)(x + 0.044715x³)); returns x.
  ValueId one_plus(ValueId a, OpKind function, ValueId& x) {
    const Node* add = node(a, OpKind::Add);
    if (!add || add->inputs.size() != 2) return kNoValue;
    const bool one_first = is_constant_near(g, add->inputs[0], 1.0);
    if (!one_first && !is_constant_near(g, add->inputs[1], 1.0)) return kNoValue;
    const Node* f = node(add->inputs[one_first ? 1 : 0], function);
    if (!f) return kNoValue;
    return function == OpKind::Erf ? erf_argument(f->inputs[0], x) : tanh_argument(f->inputs[0], x);
  }
  ValueId erf_argument(ValueId d, ValueId& x) {
    if (const Node* div = node(d, OpKind::Div); div && is_constant_near(g, div->inputs[1], std::sqrt(2.0)))
      return x = div->inputs[0];
    inner.erase(uses.producer_index(d));
    std::vector<ValueId> f;
    if (!node(d, OpKind::Mul)) return kNoValue;
    factors(d, f);
    if (f.size() != 2 || !take_constant(g, f, 1.0 / std::sqrt(2.0))) return kNoValue;
    return x = f[0];
  }
  ValueId tanh_argument(ValueId t, ValueId& x) {
    std::vector<ValueId> f;
    if (!node(t, OpKind::Mul)) return kNoValue;
    factors(t, f);
    if (f.size() != 2 || !take_constant(g, f, std::sqrt(2.0 / M_PI))) return kNoValue;
    const Node* sum = node(f[0], OpKind::Add);  // x + 0.044715 x³
    if (!sum || sum->inputs.size() != 2) return kNoValue;
    const std::set<int> before_attempt = inner;
    for (int side = 0; side < 2; ++side) {
      inner = before_attempt;  // forget what a failed attempt matched
      const ValueId candidate = sum->inputs[size_t(side)];
      const ValueId cubic = sum->inputs[size_t(1 - side)];
      std::vector<ValueId> c;
      if (!node(cubic, OpKind::Mul)) continue;
      factors(cubic, c);
      if (!take_constant(g, c, 0.044715)) continue;
      if (c.size() == 1) {  // 0.044715 · Pow(x, 3)
        const Node* pow = node(c[0], OpKind::Pow);
        if (pow && pow->inputs[0] == candidate && is_constant_near(g, pow->inputs[1], 3.0)) return x = candidate;
      } else if (c.size() == 3 && c[0] == candidate && c[1] == candidate && c[2] == candidate) {
        return x = candidate;
      }
    }
    return kNoValue;
  }
};

}  // namespace

PassReport fuse_gelu(Graph& g) {
  PassReport report("fuse-gelu");
  std::vector<bool> erase(g.nodes.size(), false);
  const Uses uses(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& root = g.nodes[i];
    if (root.op != OpKind::Mul || erase[i]) continue;
    for (OpKind function : {OpKind::Erf, OpKind::Tanh}) {
      Matcher m{g, uses, {}};
      std::vector<ValueId> f;
      m.factors(root.outputs[0], f, /*is_root=*/true);
      if (f.size() != 3 || !Matcher::take_constant(g, f, 0.5)) continue;
      // f is {x, 1 + inner(x)} in either order.
      ValueId x = kNoValue;
      bool matched = false;
      for (int side = 0; side < 2 && !matched; ++side) {
        Matcher attempt{g, uses, m.inner};
        ValueId inside = kNoValue;
        if (attempt.one_plus(f[size_t(1 - side)], function, inside) != kNoValue && inside == f[size_t(side)]) {
          m.inner = attempt.inner;
          x = inside;
          matched = true;
        }
      }
      if (!matched) continue;
      bool overlaps = false;
      for (int k : m.inner) overlaps = overlaps || erase[size_t(k)];
      if (overlaps || !only_used_inside(g, uses, m.inner, int(i))) {
        report.refused(root, "a GELU pattern, but an inner value is used elsewhere");
        break;
      }
      Node gelu{.op = OpKind::Gelu, .name = "", .inputs = {x}, .outputs = {}, .attrs = {}, .sources = {}};
      if (function == OpKind::Tanh) gelu.set_attr("approximate", std::string("tanh"));
      report.rewrote(root, "{} nodes of the {} form became one Gelu", m.inner.size() + 1,
                     function == OpKind::Erf ? "erf" : "tanh");
      replace_pattern(g, int(i), m.inner, std::move(gelu), erase);
      break;
    }
  }
  g.erase_nodes(erase);
  report.summary("fused {} GELU patterns", report.rewrites());
  return report;
}

}  // namespace nnc
