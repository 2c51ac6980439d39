// passes/fuse_layer_norm.cpp — recognise the LayerNorm that opset 13-16 exports spell out.
//
//   before:  %mean = ReduceMean  %x, @axes            after:  %y = LayerNormalization %x, @gamma, @beta
//            %d    = Sub         %x, %mean                                  axis=-1 epsilon=1e-05
//            %p    = Pow         %d, @two
//            %var  = ReduceMean  %p, @axes
//            %ve   = Add         %var, @eps
//            %s    = Sqrt        %ve
//            %n    = Div         %d, %s
//            %m    = Mul         %n, @gamma
//            %y    = Add         %m, @beta
//
// Nine nodes and four full passes over the tensor become one op with one pass (and, for the
// fast kernels, one well-known pattern). The reduced axes must be the trailing ones (that is
// what LayerNormalization's `axis` means); gamma and beta must be constants (ones and no bias are
// supplied when the export has no affine part). Refuses when an inner value has another use.
#include "passes/fuse_layer_norm.h"

#include <algorithm>

#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// The axes a ReduceMean reduces (normalized, sorted), or empty if unknown or keepdims=0.
std::vector<int64_t> reduced_axes(const Graph& g, const Node& n, int rank) {
  if (n.has_attr("keepdims") && std::get<int64_t>(*n.find_attr("keepdims")) == 0) return {};
  std::vector<int64_t> axes;
  if (const AttrValue* a = n.find_attr("axes")) axes = std::get<std::vector<int64_t>>(*a);
  else if (n.has_input(1) && g.const_data(n.inputs[1])) axes = g.const_data(n.inputs[1])->to_int_vector();
  else return {};
  for (int64_t& a : axes) a = a < 0 ? a + rank : a;
  std::sort(axes.begin(), axes.end());
  return axes;
}

struct Pattern {
  std::set<int> inner;
  int root = -1;
  ValueId x = kNoValue, gamma = kNoValue, beta = kNoValue;
  int64_t axis = -1;
  float epsilon = 1e-5f;
};

// Matches from the Div `%n = Div %d, %s`; fills `p` and returns true on success.
bool match_from_div(const Graph& g, const Uses& uses, int div_index, Pattern& p) {
  const Node& div = g.nodes[size_t(div_index)];
  auto producer = [&](ValueId v, OpKind op) -> const Node* {
    const Node* n = uses.producer_of(g, v);
    if (!n || n->op != op) return nullptr;
    p.inner.insert(uses.producer_index(v));
    return n;
  };
  const Node* sub = producer(div.inputs[0], OpKind::Sub);
  const Node* sqrt = producer(div.inputs[1], OpKind::Sqrt);
  if (!sub || !sqrt) return false;
  const Node* mean = producer(sub->inputs[1], OpKind::ReduceMean);
  if (!mean || mean->inputs[0] != sub->inputs[0]) return false;
  p.x = sub->inputs[0];
  const TensorType& type = g.type(p.x);
  if (!type.shape.rank_known || type.rank() == 0 || !is_float(type.dtype)) return false;
  const int rank = type.rank();
  const std::vector<int64_t> axes = reduced_axes(g, *mean, rank);
  if (axes.empty() || axes.back() != rank - 1 || axes.front() != rank - int64_t(axes.size())) return false;
  p.axis = axes.front();

  const Node* add_eps = producer(sqrt->inputs[0], OpKind::Add);
  if (!add_eps) return false;
  const ValueId var_value = scalar_constant(g, add_eps->inputs[1]) ? add_eps->inputs[0] : add_eps->inputs[1];
  const auto eps = scalar_constant(g, other_input(*add_eps, var_value));
  const Node* var = producer(var_value, OpKind::ReduceMean);
  if (!eps || !var || reduced_axes(g, *var, rank) != axes) return false;
  p.epsilon = float(*eps);
  const Node* square = uses.producer_of(g, var->inputs[0]);
  if (!square) return false;
  p.inner.insert(uses.producer_index(var->inputs[0]));
  const bool is_square = (square->op == OpKind::Pow && square->inputs[0] == div.inputs[0] &&
                          is_constant_near(g, square->inputs[1], 2.0)) ||
                         (square->op == OpKind::Mul && square->inputs[0] == div.inputs[0] &&
                          square->inputs[1] == div.inputs[0]);
  if (!is_square) return false;

  // Optional affine part: Mul by constant gamma, then Add constant beta.
  p.root = div_index;
  for (OpKind op : {OpKind::Mul, OpKind::Add}) {
    const ValueId out = g.nodes[size_t(p.root)].outputs[0];
    if (!uses.single_use(g, out)) break;
    const int next = uses.consumers[size_t(out)][0];
    const Node& n = g.nodes[size_t(next)];
    if (n.op != op) break;
    const ValueId param = other_input(n, out);
    if (!g.const_data(param)) break;
    p.inner.insert(p.root);
    p.root = next;
    (op == OpKind::Mul ? p.gamma : p.beta) = param;
    if (op == OpKind::Mul && p.beta != kNoValue) break;
  }
  return true;
}

// gamma/beta as tensors of the normalized shape (LayerNormalization broadcasts them from the
// right, so a constant of shape [D] or [1,1,D] both become [D...]).
ValueId normalized_param(Graph& g, ValueId param, const Dims& normalized, double fill, const std::string& name) {
  Tensor t(DType::F32, normalized);
  const Tensor* src = param == kNoValue ? nullptr : g.const_data(param);
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = float(src ? src->get_double(src->numel() == 1 ? 0 : i) : fill);
  return g.add_const(g.unique_value_name(name), std::move(t));
}

}  // namespace

PassReport fuse_layer_norm(Graph& g) {
  PassReport report("fuse-layer-norm");
  std::vector<bool> erase(g.nodes.size(), false);
  const Uses uses(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op != OpKind::Div || erase[i]) continue;
    Pattern p;
    if (!match_from_div(g, uses, int(i), p)) continue;
    const Node& root = g.nodes[size_t(p.root)];
    if (!only_used_inside(g, uses, p.inner, p.root)) {
      report.refused(root, "a LayerNorm pattern, but an inner value is used elsewhere");
      continue;
    }
    const TensorType type = g.type(p.x);  // a copy: adding constants below moves the value table
    Dims normalized;
    bool known = type.dtype == DType::F32;
    for (int a = int(p.axis); a < type.rank(); ++a) {
      known = known && type.shape.dims[size_t(a)].known();
      normalized.push_back(type.shape.dims[size_t(a)].value);
    }
    int64_t count = 1;
    for (int64_t d : normalized) count *= d;
    for (ValueId param : {p.gamma, p.beta})
      if (param != kNoValue && g.const_data(param)->numel() != 1 && g.const_data(param)->numel() != count) known = false;
    if (!known) {
      report.refused(root, "a LayerNorm pattern, but its normalized dims or parameters do not fit a LayerNormalization");
      continue;
    }
    const std::string base = root.name;
    const ValueId gamma = normalized_param(g, p.gamma, normalized, 1.0, base + ".scale");
    const ValueId beta = normalized_param(g, p.beta, normalized, 0.0, base + ".bias");
    Node ln{.op = OpKind::LayerNormalization, .name = "", .inputs = {p.x, gamma, beta}, .outputs = {}, .attrs = {},
            .sources = {}};
    ln.set_attr("axis", p.axis - type.rank());
    ln.set_attr("epsilon", p.epsilon);
    report.rewrote(root, "{} nodes became one LayerNormalization", p.inner.size() + 1);
    replace_pattern(g, p.root, p.inner, std::move(ln), erase);
  }
  g.erase_nodes(erase);
  report.summary("fused {} LayerNorm patterns", report.rewrites());
  return report;
}

}  // namespace nnc
