// passes/fuse_group_norm.cpp — recognise the GroupNorm that ONNX exports (opsets < 18) spell out
// with InstanceNormalization, and make it one GroupNormalization.
//
//   before:  %r  f32[1,8,64]       = Reshape                %x, @groups_shape     ([0, G, -1])
//            %i  f32[1,8,64]       = InstanceNormalization  %r, @ones, @zeros     epsilon=1e-05
//            %b  f32[1,32,4,4]     = Reshape                %i, @x_shape
//            %m  f32[1,32,4,4]     = Mul                    %b, @gamma            ([C,1,1])
//            %y  f32[1,32,4,4]     = Add                    %m, @beta
//   after:   %y  f32[1,32,4,4]     = GroupNormalization     %x, @y.scale, @y.bias num_groups=8 epsilon=1e-05
//
// Reshaping [N, C, ...] to [N, G, C/G · spatial] makes each group one "instance", so
// InstanceNormalization normalises per group; the per-channel affine follows. The scale and bias
// of the fused op are per channel ([C], which nnc's GroupNormalization accepts): gamma and beta
// combined with the InstanceNormalization's own per-group scale and bias, so the rewrite is exact
// whatever those are. The Mul and Add may be missing (affine=False). Refuses, saying why, when an
// inner value is read elsewhere or the reshapes do not round-trip the input's shape.
#include "passes/fuse_group_norm.h"

#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// The per-channel values of a constant that broadcasts against a rank-`rank` tensor along axis
// 1 only ([C,1,1] or [1,C,1,1] for NCHW; a scalar counts as C equal values); else empty.
std::vector<double> per_channel(const Graph& g, ValueId v, int rank, int64_t channels) {
  const Tensor* t = g.const_data(v);
  if (!t || t->rank() > rank) return {};
  if (t->numel() == 1) return std::vector<double>(size_t(channels), t->get_double(0));
  const int channel_axis = 1 - (rank - t->rank());  // axis 1 of the tensor, right-aligned
  if (channel_axis < 0 || t->numel() != channels || t->dims()[size_t(channel_axis)] != channels) return {};
  return t->to_double_vector();
}

struct Match {
  std::set<int> inner;
  int root = -1;
  ValueId x = kNoValue;
  int64_t groups = 0;
  float epsilon = 1e-5f;
  std::vector<double> scale, bias;  // per channel
};

// Matches from the InstanceNormalization at `index`; fills `m` or returns why not ("" if the
// node is simply not part of a GroupNorm pattern).
std::string match(const Graph& g, const Uses& uses, int index, Match& m) {
  const Node& instance = g.nodes[size_t(index)];
  const Node* reshape_in = uses.producer_of(g, instance.inputs[0]);
  if (!reshape_in || reshape_in->op != OpKind::Reshape) return "";
  m.x = reshape_in->inputs[0];
  const TensorType& xt = g.type(m.x);
  const TensorType& grouped = g.type(instance.inputs[0]);
  if (!xt.shape.fully_known() || xt.rank() < 3 || !grouped.shape.fully_known() || grouped.rank() != 3) return "";
  const Dims x_dims = xt.shape.concrete(), g_dims = grouped.shape.concrete();
  const int64_t channels = x_dims[1];
  m.groups = g_dims[1];
  if (g_dims[0] != x_dims[0] || m.groups <= 0 || channels % m.groups != 0) return "";
  if (!uses.single_use(g, instance.outputs[0])) return "the normalised groups are also read elsewhere";
  const Node* reshape_out = g.nodes.data() + uses.consumers[size_t(instance.outputs[0])][0];
  if (reshape_out->op != OpKind::Reshape || g.type(reshape_out->outputs[0]) != xt)
    return "the groups are not reshaped back to the input's shape";
  if (!uses.single_use(g, instance.inputs[0])) return "the grouped reshape is also read elsewhere";
  m.inner = {uses.producer_index(instance.inputs[0]), index};
  m.root = uses.consumers[size_t(instance.outputs[0])][0];

  // InstanceNormalization's own per-group scale and bias, expanded to channels.
  const Tensor* s = g.const_data(instance.inputs[1]);
  const Tensor* b = g.const_data(instance.inputs[2]);
  if (!s || !b || s->numel() != m.groups || b->numel() != m.groups) return "InstanceNormalization's scale or bias is not constant";
  m.epsilon = attr_float(instance, "epsilon");
  const int64_t per_group = channels / m.groups;
  for (int64_t c = 0; c < channels; ++c) {
    m.scale.push_back(s->get_double(c / per_group));
    m.bias.push_back(b->get_double(c / per_group));
  }
  // Then y = gamma · t + beta, if present.
  const int rank = xt.rank();
  for (OpKind op : {OpKind::Mul, OpKind::Add}) {
    const ValueId out = g.nodes[size_t(m.root)].outputs[0];
    if (!uses.single_use(g, out)) break;
    const Node& next = g.nodes[size_t(uses.consumers[size_t(out)][0])];
    if (next.op != op || next.inputs.size() != 2 || g.type(next.outputs[0]) != xt) break;
    const std::vector<double> k = per_channel(g, other_input(next, out), rank, channels);
    if (k.empty()) break;
    for (int64_t c = 0; c < channels; ++c) {
      if (op == OpKind::Mul) m.scale[size_t(c)] *= k[size_t(c)], m.bias[size_t(c)] *= k[size_t(c)];
      else m.bias[size_t(c)] += k[size_t(c)];
    }
    m.inner.insert(m.root);
    m.root = uses.consumers[size_t(out)][0];
  }
  return "";
}

Tensor f32_vector(const std::vector<double>& values) {
  Tensor t(DType::F32, {int64_t(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = float(values[i]);
  return t;
}

}  // namespace

PassReport fuse_group_norm(Graph& g) {
  PassReport report("fuse-group-norm");
  const Uses uses(g);
  std::vector<bool> erase(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpKind::InstanceNormalization || erase[i] || g.type(n.outputs[0]).dtype != DType::F32) continue;
    Match m;
    if (const std::string why = match(g, uses, int(i), m); !why.empty()) {
      report.refused(n, "looks like a spelled-out GroupNorm, but {}", why);
      continue;
    }
    if (m.root < 0) continue;
    const std::string base = g.nodes[size_t(m.root)].name;
    const ValueId scale = g.add_const(g.unique_value_name(base + ".scale"), f32_vector(m.scale));
    const ValueId bias = g.add_const(g.unique_value_name(base + ".bias"), f32_vector(m.bias));
    Node fused{.op = OpKind::GroupNormalization, .name = "", .inputs = {m.x, scale, bias}, .outputs = {}, .attrs = {}, .sources = {}};
    fused.set_attr("epsilon", m.epsilon);
    fused.set_attr("num_groups", m.groups);
    report.rewrote(g.nodes[size_t(m.root)], "{} nodes became one GroupNormalization with {} groups", m.inner.size() + 1, m.groups);
    replace_pattern(g, m.root, m.inner, std::move(fused), erase);
  }
  g.erase_nodes(erase);
  report.summary("fused {} GroupNorm patterns", report.rewrites());
  return report;
}

}  // namespace nnc
