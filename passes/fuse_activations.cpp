// passes/fuse_activations.cpp — let Conv / ConvTranspose / Gemm / MatMul finish the job their
// consumers would do, while the result is still in cache: a bias Add, a residual Add, an
// activation.
//
//   before:  %c  f32[1,64,80,80]  = Conv  %x, @w, @b
//            %s  f32[1,64,80,80]  = Add   %c, %skip
//            %y  f32[1,64,80,80]  = Relu  %s
//   after:   %y  f32[1,64,80,80]  = Conv  %x, @w, @b, %skip  act="Relu"
//
// Three rewrites, each putting the producer into its consumer's place (so the consumer's output
// keeps its name, and every value the producer reads is already computed there):
//   bias      MatMul + Add(constant of N elements broadcast along the last axis) -> MatMul input 2
//   residual  Conv [+ act] + Add(tensor of exactly the Conv's shape)             -> Conv input 3
//   act       producer (Conv, ConvTranspose, Gemm, MatMul, GroupNormalization,
//             InstanceNormalization) + Relu | LeakyRelu | Clip(constant bounds) | Sigmoid | HardSigmoid |
//             HardSwish | Gelu | Tanh, or the spelled-out SiLU  x·Sigmoid(x) and HardSwish
//             x·HardSigmoid(x; 1/6, 1/2)                                         -> act attribute
// The order matters and the walk respects it: y = act(conv + bias + residual). A residual Add
// after an already fused activation (U2Net's relu(conv(x)) + skip) fuses too, marked
// residual_after_act=1: y = act(conv + bias) + residual.
// Refuses, saying why, when the producer's output is read by anyone else or is a graph output
// (it would have to exist anyway), when the producer already has an activation, or when the
// element type is not f32 (the epilogues are f32 code).
#include "passes/fuse_activations.h"

#include <cmath>
#include <limits>

#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// Ops whose kernels apply an `act` epilogue (ops/epilogue.h). The normalisations take only the
// activation (a diffusion U-Net's GroupNorm + SiLU), never a bias or residual.
bool has_epilogue_kernel(OpKind op) {
  return op == OpKind::Conv || op == OpKind::ConvTranspose || op == OpKind::Gemm || op == OpKind::MatMul ||
         op == OpKind::GroupNormalization || op == OpKind::InstanceNormalization;
}

struct Activation {
  std::string act;  // empty: not an activation nnc fuses
  std::vector<float> params;
  int inner = -1;  // for a spelled-out form: the Sigmoid / HardSigmoid node that also goes
  ValueId input = kNoValue;
};

// What activation node `n` computes, if any, and on which value.
Activation activation_of(const Graph& g, const Uses& uses, const Node& n) {
  Activation a;
  if (n.inputs.empty() || n.outputs.size() != 1) return a;
  a.input = n.inputs[0];
  switch (n.op) {
    case OpKind::Relu: a.act = "Relu"; break;
    case OpKind::Sigmoid: a.act = "Sigmoid"; break;
    case OpKind::Tanh: a.act = "Tanh"; break;
    case OpKind::HardSwish: a.act = "HardSwish"; break;
    case OpKind::LeakyRelu: a.act = "LeakyRelu", a.params = {attr_float(n, "alpha")}; break;
    case OpKind::HardSigmoid: a.act = "HardSigmoid", a.params = {attr_float(n, "alpha"), attr_float(n, "beta")}; break;
    case OpKind::Gelu: a.act = attr_string(n, "approximate") == "tanh" ? "GeluTanh" : "Gelu"; break;
    case OpKind::Clip: {
      float lo = -std::numeric_limits<float>::infinity(), hi = std::numeric_limits<float>::infinity();
      if (n.has_input(1)) {
        const std::optional<double> v = scalar_constant(g, n.inputs[1]);
        if (!v) return {};
        lo = float(*v);
      }
      if (n.has_input(2)) {
        const std::optional<double> v = scalar_constant(g, n.inputs[2]);
        if (!v) return {};
        hi = float(*v);
      }
      a.act = "Clip", a.params = {lo, hi};
      break;
    }
    case OpKind::Mul: {  // x · Sigmoid(x) or x · HardSigmoid(x; 1/6, 1/2), either order
      if (n.inputs.size() != 2) return {};
      for (int side = 0; side < 2; ++side) {
        const ValueId x = n.inputs[size_t(side)], gate = n.inputs[size_t(1 - side)];
        const Node* g_node = uses.producer_of(g, gate);
        if (!g_node || g_node->inputs.empty() || g_node->inputs[0] != x || !uses.single_use(g, gate)) continue;
        const bool silu = g_node->op == OpKind::Sigmoid;
        const bool hard_swish = g_node->op == OpKind::HardSigmoid &&
                                std::abs(attr_float(*g_node, "alpha") - 1.0f / 6.0f) < 1e-6f &&
                                std::abs(attr_float(*g_node, "beta") - 0.5f) < 1e-6f;
        if (!silu && !hard_swish) continue;
        a.act = silu ? "Silu" : "HardSwish";
        a.inner = uses.producer_index(gate);
        a.input = x;
        return a;
      }
      return {};
    }
    default: return {};
  }
  return a;
}

// The reasons a producer cannot take on more work, or "" if it can. `extra_readers` is how many
// reads of the producer's output the fusion itself accounts for beyond one (SiLU reads it twice).
// `may_have_act`: the rewrite keeps an existing activation (a residual added after it).
std::string cannot_fuse(const Graph& g, const Uses& uses, const Node& producer, ValueId y, int readers_in_pattern,
                        bool may_have_act = false) {
  if (producer.has_attr("act") && !may_have_act)
    return fmt::format("'{}' already ends in act={}", producer.name, attr_string(producer, "act"));
  if (g.type(y).dtype != DType::F32) return fmt::format("'{}' is {}; fused epilogues are f32", g.value(y).name, dtype_name(g.type(y).dtype));
  if (g.is_output(y)) return fmt::format("'{}' is a graph output and must exist on its own", g.value(y).name);
  const size_t readers = uses.consumers[size_t(y)].size();
  if (readers != size_t(readers_in_pattern))
    return fmt::format("'{}' is also read by {} other node(s), which need it without the epilogue", g.value(y).name,
                       readers - size_t(readers_in_pattern));
  return "";
}

// Moves `producer` into `consumer`'s slot with the consumer's outputs (replace_pattern: the
// producer's old slot and any `inner` node are erased; provenance lists all of them).
void absorb(Graph& g, int producer, int consumer, int inner, std::vector<bool>& erase) {
  std::set<int> matched = {producer};
  if (inner >= 0) matched.insert(inner);
  replace_pattern(g, consumer, matched, g.nodes[size_t(producer)], erase);
}

// A constant that adds along the last axis only: N elements, every other dim 1.
const Tensor* last_axis_bias(const Graph& g, ValueId v, int64_t n) {
  const Tensor* t = g.const_data(v);
  if (!t || t->dtype() != DType::F32 || t->numel() != n) return nullptr;
  if (t->rank() == 0 || t->dims().back() != n) return nullptr;
  return t;
}

struct Counts {
  int bias = 0, residual = 0, act = 0;
};

// Tries the three rewrites with node `i` as the consumer.
void try_fuse(Graph& g, const Uses& uses, size_t i, std::vector<bool>& erase, PassReport& report, Counts& counts) {
  const Node consumer = g.nodes[i];
  if (consumer.op == OpKind::Add && consumer.inputs.size() == 2) {
    for (int side = 0; side < 2; ++side) {
      const ValueId y = consumer.inputs[size_t(side)], other = consumer.inputs[size_t(1 - side)];
      const int p = uses.producer_index(y);
      if (p < 0 || erase[size_t(p)] || y == other) continue;
      const Node& producer = g.nodes[size_t(p)];
      const TensorType& yt = g.type(y);
      if (producer.op == OpKind::MatMul && !producer.has_input(2) && yt.shape.rank_known && yt.rank() >= 1 &&
          yt.shape.dims.back().known() && g.type(consumer.outputs[0]).shape == yt.shape) {
        const Tensor* bias = last_axis_bias(g, other, yt.shape.dims.back().value);
        if (!bias) continue;
        if (const std::string why = cannot_fuse(g, uses, producer, y, 1); !why.empty()) {
          report.refused(consumer, "bias Add after MatMul: {}", why);
          continue;
        }
        const ValueId flat = bias->rank() == 1 ? other
                                               : g.add_const(g.unique_value_name(g.value(other).name + ".row"),
                                                             bias->reshaped({bias->numel()}));
        absorb(g, p, int(i), -1, erase);
        g.nodes[i].inputs = {g.nodes[i].inputs[0], g.nodes[i].inputs[1], flat};
        report.rewrote(g.nodes[i], "MatMul + Add(bias {}) became one MatMul with a bias", to_string(bias->dims()));
        ++counts.bias;
        return;
      }
      if (producer.op == OpKind::Conv && !producer.has_input(3) && yt.shape.fully_known() && g.type(other) == yt) {
        // An activated Conv takes the residual after its activation: act(conv) + skip.
        const bool after_act = producer.has_attr("act");
        if (const std::string why = cannot_fuse(g, uses, producer, y, 1, /*may_have_act=*/after_act); !why.empty()) {
          report.refused(consumer, "residual Add after Conv: {}", why);
          continue;
        }
        absorb(g, p, int(i), -1, erase);
        std::vector<ValueId>& in = g.nodes[i].inputs;
        in.resize(4, kNoValue);
        in[3] = other;
        if (after_act) g.nodes[i].set_attr("residual_after_act", int64_t{1});
        report.rewrote(g.nodes[i], "Conv{} + Add('{}') became one Conv with a residual input{}",
                       after_act ? "(act=" + attr_string(g.nodes[i], "act") + ")" : "", g.value(other).name,
                       after_act ? " added after the activation" : "");
        ++counts.residual;
        return;
      }
    }
    return;
  }
  const Activation a = activation_of(g, uses, consumer);
  if (a.act.empty()) return;
  const int p = uses.producer_index(a.input);
  if (p < 0 || erase[size_t(p)] || !has_epilogue_kernel(g.nodes[size_t(p)].op)) return;
  const Node& producer = g.nodes[size_t(p)];
  if (const std::string why = cannot_fuse(g, uses, producer, a.input, a.inner >= 0 ? 2 : 1); !why.empty()) {
    report.refused(consumer, "{} after {}: {}", a.act, op_name(producer.op), why);
    return;
  }
  const std::string producer_op(op_name(producer.op));
  absorb(g, p, int(i), a.inner, erase);
  g.nodes[i].set_attr("act", a.act);
  if (!a.params.empty()) g.nodes[i].set_attr("act_params", a.params);
  report.rewrote(g.nodes[i], "{} + {} became one {} with act={}", producer_op, a.inner >= 0 ? a.act + " (spelled out)" : std::string(op_name(consumer.op)),
                 producer_op, a.act);
  ++counts.act;
}

}  // namespace

PassReport fuse_activations(Graph& g) {
  PassReport report("fuse-activations");
  Counts counts;
  // One walk suffices: a fused node takes its consumer's slot and output, so the producer and
  // consumer indices of every value still in use stay right, and chains (MatMul, Add, Gelu)
  // fuse link by link as the walk reaches them.
  const Uses uses(g);
  std::vector<bool> erase(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (!erase[i]) try_fuse(g, uses, i, erase, report, counts);
  g.erase_nodes(erase);
  report.summary("fused {} activations, {} residual Adds, {} bias Adds into their producers", counts.act, counts.residual,
                 counts.bias);
  return report;
}

}  // namespace nnc
