// passes/fold_batchnorm.cpp — fold inference BatchNormalization (and constant per-channel
// Mul/Add/Sub/Div after a Conv) into the producing op's weights and bias.
//
//   before:  %c  f32[1,16,32,32]  = Conv                %x, @w, @b       kernel_shape=[3,3]
//            %y  f32[1,16,32,32]  = BatchNormalization  %c, @s, @beta, @mean, @var
//   after:   %y  f32[1,16,32,32]  = Conv                %x, @w.fold, @b.fold  kernel_shape=[3,3]
//
// At inference BN is y = a·c + b per channel, with a = s / sqrt(var + eps) and b = beta − mean·a.
// A Conv's output channel m is a linear function of weight row m, so scaling that row by a[m]
// and setting bias[m] to a[m]·bias[m] + b[m] computes the same thing. ConvTranspose, Gemm and
// a MatMul with a constant 2-D weight fold the same way (their output channels live in other
// weight axes). A constant Mul/Div by, or Add/Sub of, a per-channel constant after a Conv is the
// same affine map and folds too (exporters leave these after "frozen BN" layers).
//
// Refuses (and says why) when the producer's output has another use (the pre-BN value is
// needed), the weights are not f32 constants, or the op is not one of the above; such a BN
// becomes a per-channel Mul + Add (scale and shift), which later passes and kernels handle.
#include "passes/fold_batchnorm.h"

#include <cmath>

#include "passes/rewrite_util.h"

namespace nnc {
namespace {

struct Affine {  // y = scale[c] * x + shift[c]
  std::vector<double> scale, shift;
};

Affine batchnorm_affine(const Graph& g, const Node& bn) {
  const double eps = bn.has_attr("epsilon") ? std::get<float>(*bn.find_attr("epsilon")) : 1e-5;
  const std::vector<double> s = g.const_data(bn.inputs[1])->to_double_vector();
  const std::vector<double> beta = g.const_data(bn.inputs[2])->to_double_vector();
  const std::vector<double> mean = g.const_data(bn.inputs[3])->to_double_vector();
  const std::vector<double> var = g.const_data(bn.inputs[4])->to_double_vector();
  Affine f;
  for (size_t c = 0; c < s.size(); ++c) {
    f.scale.push_back(s[c] / std::sqrt(var[c] + eps));
    f.shift.push_back(beta[c] - mean[c] * f.scale.back());
  }
  return f;
}

// The channel-axis layout of an op's weight: weight element i belongs to output channel
// channel_of(i). Conv: [M, C/g, k...]; ConvTranspose: [C, M/g, k...]; Gemm/MatMul: columns of
// B, or rows when transB.
std::vector<int64_t> output_channel_of_weight(const Node& n, const Tensor& w) {
  std::vector<int64_t> channel(size_t(w.numel()));
  const Dims& d = w.dims();
  const int64_t inner = w.numel() / (d[0] * d[1]);
  for (int64_t i = 0; i < w.numel(); ++i) {
    const int64_t row = i / (d[1] * inner), column = (i / inner) % d[1];
    switch (n.op) {
      case OpKind::Conv: channel[size_t(i)] = row; break;
      case OpKind::ConvTranspose: {
        const int64_t groups = n.has_attr("group") ? std::get<int64_t>(*n.find_attr("group")) : 1;
        channel[size_t(i)] = row / (d[0] / groups) * d[1] + column;
        break;
      }
      default: {  // Gemm / MatMul
        const bool trans_b = n.op == OpKind::Gemm && n.has_attr("transB") && std::get<int64_t>(*n.find_attr("transB"));
        channel[size_t(i)] = trans_b ? row : column;
      }
    }
  }
  return channel;
}

// Why `producer` cannot absorb a per-channel affine map on its output, or "" if it can.
std::string why_not_foldable(const Graph& g, const Uses& uses, const Node& producer, int64_t channels) {
  const ValueId out = producer.outputs[0];
  if (!uses.single_use(g, out)) return fmt::format("'{}' output is also used elsewhere", producer.name);
  const Tensor* w = g.const_data(producer.inputs[1]);
  if (!w) return fmt::format("'{}' has no constant weight", producer.name);
  if (w->dtype() != DType::F32) return fmt::format("'{}' weight is {}, only f32 folds", producer.name, dtype_name(w->dtype()));
  if (w->rank() < 2) return fmt::format("'{}' weight has rank {}", producer.name, w->rank());
  if (producer.has_input(2) && !g.const_data(producer.inputs[2]))
    return fmt::format("'{}' bias is not a constant", producer.name);
  if (producer.op == OpKind::MatMul) {
    if (w->rank() != 2 || g.type(producer.inputs[0]).rank() != 2)
      return "MatMul output channels are its last axis; BN normalizes axis 1 (folds only for 2-D MatMul)";
  }
  if (producer.op == OpKind::Gemm) {
    if (producer.has_input(2) && g.const_data(producer.inputs[2])->numel() > 1 &&
        g.const_data(producer.inputs[2])->numel() != channels)
      return "Gemm's C is not a per-channel vector";
    if (producer.has_input(2) && g.const_data(producer.inputs[2])->rank() > 1 &&
        g.const_data(producer.inputs[2])->dims()[0] != 1)
      return "Gemm's C varies along rows";
  }
  return "";
}

// Rewrites `producer` to compute scale·out + shift per output channel.
void fold_into(Graph& g, Node& producer, const Affine& f) {
  const Tensor& w = *g.const_data(producer.inputs[1]);
  const auto channels = int64_t(f.scale.size());
  const std::vector<int64_t> channel = output_channel_of_weight(producer, w);
  Tensor folded(DType::F32, w.dims());
  for (int64_t i = 0; i < w.numel(); ++i)
    folded.data<float>()[i] = float(w.data<float>()[i] * f.scale[size_t(channel[size_t(i)])]);

  std::vector<double> bias(size_t(channels), 0.0);
  if (producer.has_input(2)) {
    const Tensor& b = *g.const_data(producer.inputs[2]);
    double beta = 1.0;
    if (producer.op == OpKind::Gemm && producer.has_attr("beta")) beta = std::get<float>(*producer.find_attr("beta"));
    for (int64_t c = 0; c < channels; ++c) bias[size_t(c)] = beta * b.get_double(b.numel() == 1 ? 0 : c);
  }
  Tensor new_bias(DType::F32, {channels});
  for (int64_t c = 0; c < channels; ++c)
    new_bias.data<float>()[c] = float(bias[size_t(c)] * f.scale[size_t(c)] + f.shift[size_t(c)]);

  const std::string weight_name = g.value(producer.inputs[1]).name;
  const std::string bias_name = producer.has_input(2) ? g.value(producer.inputs[2]).name : producer.name + ".bias";
  producer.inputs[1] = g.add_const(g.unique_value_name(weight_name + ".fold"), std::move(folded));
  const ValueId bias_value = g.add_const(g.unique_value_name(bias_name + ".fold"), std::move(new_bias));
  if (producer.op == OpKind::MatMul) {
    producer.op = OpKind::Gemm;  // a 2-D MatMul plus bias is a Gemm
    producer.attrs.clear();
  }
  if (producer.op == OpKind::Gemm) producer.set_attr("beta", 1.0f);
  if (producer.inputs.size() < 3) producer.inputs.resize(3, kNoValue);
  producer.inputs[2] = bias_value;
}

// Takes over `consumer`'s output: `producer` now produces it and `consumer` is erased.
void absorb(Graph& g, size_t producer, size_t consumer) {
  Node& p = g.nodes[producer];
  const Node& c = g.nodes[consumer];
  p.outputs[0] = c.outputs[0];
  p.sources.insert(p.sources.end(), c.sources.begin(), c.sources.end());
  std::vector<bool> erase(g.nodes.size(), false);
  erase[consumer] = true;
  g.erase_nodes(erase);
}

// The per-channel vector a constant broadcasts to along axis 1 of a rank-`rank` output with
// `channels` channels, or nullopt if it varies along another axis.
std::optional<std::vector<double>> per_channel(const Tensor& c, int rank, int64_t channels) {
  if (c.rank() > rank) return std::nullopt;
  const int channel_axis = 1 - (rank - c.rank());  // axis 1 of the output in c's own axes
  for (int a = 0; a < c.rank(); ++a)
    if (a != channel_axis && c.dims()[size_t(a)] != 1) return std::nullopt;
  const bool varies = channel_axis >= 0 && channel_axis < c.rank() && c.dims()[size_t(channel_axis)] != 1;
  if (varies && c.dims()[size_t(channel_axis)] != channels) return std::nullopt;
  std::vector<double> v(static_cast<size_t>(channels));
  for (int64_t k = 0; k < channels; ++k) v[size_t(k)] = c.get_double(varies ? k : 0);
  return v;
}

// A constant Mul/Div/Add/Sub after a Conv as an affine map, or nullopt.
std::optional<Affine> constant_affine(const Graph& g, const Node& n, ValueId from, int rank, int64_t channels) {
  if (n.inputs.size() != 2) return std::nullopt;
  const bool from_first = n.inputs[0] == from;
  const ValueId other = other_input(n, from);
  const Tensor* c = g.const_data(other);
  if (!c || !is_float(c->dtype())) return std::nullopt;
  const auto v = per_channel(*c, rank, channels);
  if (!v) return std::nullopt;
  Affine f{std::vector<double>(size_t(channels), 1.0), std::vector<double>(size_t(channels), 0.0)};
  for (size_t k = 0; k < v->size(); ++k) switch (n.op) {
      case OpKind::Mul: f.scale[k] = (*v)[k]; break;
      case OpKind::Div:
        if (!from_first || (*v)[k] == 0) return std::nullopt;
        f.scale[k] = 1.0 / (*v)[k];
        break;
      case OpKind::Add: f.shift[k] = (*v)[k]; break;
      case OpKind::Sub:
        if (!from_first) return std::nullopt;
        f.shift[k] = -(*v)[k];
        break;
      default: return std::nullopt;
    }
  return f;
}

// BN with no foldable producer: y = x·a + b as Mul and Add with [C,1,...] constants.
void lower_to_scale_shift(Graph& g, size_t index, const Affine& f) {
  const Node bn = g.nodes[index];
  const int rank = g.type(bn.inputs[0]).rank();
  Dims dims(size_t(std::max(rank - 1, 1)), 1);
  dims[0] = int64_t(f.scale.size());
  // The constants take the input's float type (f16, f64 ...): Mul and Add want equal types
  // (an f16 BatchNorm met f32 constants; found by tests/fuzz).
  const DType dtype = g.type(bn.inputs[0]).dtype;
  auto make = [&](const std::vector<double>& v, const std::string& suffix) {
    Tensor t(DType::F32, dims);
    for (size_t k = 0; k < v.size(); ++k) t.data<float>()[k] = float(v[k]);
    return g.add_const(g.unique_value_name(bn.name + suffix), dtype == DType::F32 ? std::move(t) : t.cast(dtype));
  };
  const ValueId scale = make(f.scale, ".scale"), shift = make(f.shift, ".shift");
  const ValueId scaled = g.add_value(g.unique_value_name(bn.name + ".scaled"), g.type(bn.outputs[0]));
  Node mul{.op = OpKind::Mul, .name = g.unique_node_name(bn.name + ".scale"), .inputs = {bn.inputs[0], scale},
           .outputs = {scaled}, .attrs = {}, .sources = bn.sources};
  Node add{.op = OpKind::Add, .name = bn.name, .inputs = {scaled, shift}, .outputs = {bn.outputs[0]}, .attrs = {},
           .sources = bn.sources};
  g.nodes[index] = std::move(add);
  g.nodes.insert(g.nodes.begin() + std::ptrdiff_t(index), std::move(mul));
}

bool is_weight_op(OpKind op) {
  return op == OpKind::Conv || op == OpKind::ConvTranspose || op == OpKind::Gemm || op == OpKind::MatMul;
}

bool is_affine_op(OpKind op) {
  return op == OpKind::Mul || op == OpKind::Div || op == OpKind::Add || op == OpKind::Sub;
}

struct Counts {
  int folded = 0, lowered = 0, chains = 0;
};

// Handles the BatchNormalization at `i`; returns the index of the next node to look at.
size_t rewrite_batchnorm(Graph& g, size_t i, PassReport& report, Counts& counts) {
  const Uses uses(g);
  const Node& n = g.nodes[i];
  bool constant_params = n.inputs.size() >= 5;
  for (size_t k = 1; k < n.inputs.size(); ++k) constant_params = constant_params && g.const_data(n.inputs[k]);
  if (!constant_params || (n.outputs.size() > 1 && n.outputs[1] != kNoValue)) {
    report.refused(n, "its statistics are not constants");
    return i + 1;
  }
  const Affine f = batchnorm_affine(g, n);
  const int producer = uses.producer_index(n.inputs[0]);
  std::string why = "its input is not produced by Conv, ConvTranspose, Gemm or MatMul";
  if (producer >= 0 && is_weight_op(g.nodes[size_t(producer)].op))
    why = why_not_foldable(g, uses, g.nodes[size_t(producer)], int64_t(f.scale.size()));
  if (why.empty()) {
    report.rewrote(n, "folded into '{}'", g.nodes[size_t(producer)].name);
    fold_into(g, g.nodes[size_t(producer)], f);
    absorb(g, size_t(producer), i);
    ++counts.folded;
    return i;  // the node after the BN is now at i
  }
  if (g.type(n.outputs[0]).rank() < 2) {
    report.refused(n, "{}; and its rank is unknown, so it stays", why);
    return i + 1;
  }
  report.rewrote(n, "became a per-channel Mul + Add: {}", why);
  lower_to_scale_shift(g, i, f);
  ++counts.lowered;
  return i + 2;
}

// Folds the constant Mul/Div/Add/Sub at `i` into the Conv feeding it; false if it does not fit.
bool fold_constant_after_conv(Graph& g, size_t i, PassReport& report, Counts& counts) {
  const Uses uses(g);
  const Node& n = g.nodes[i];
  const TensorType& out_type = g.type(n.outputs[0]);
  for (ValueId in : n.inputs) {
    const int conv_index = uses.producer_index(in);
    if (conv_index < 0 || g.nodes[size_t(conv_index)].op != OpKind::Conv) continue;
    const Node& conv = g.nodes[size_t(conv_index)];
    const TensorType& conv_type = g.type(conv.outputs[0]);
    if (!out_type.shape.rank_known || conv_type.shape != out_type.shape || conv_type.dtype != DType::F32 ||
        out_type.rank() < 2 || !out_type.shape.dims[1].known())
      return false;
    const int64_t channels = out_type.shape.dims[1].value;
    const auto f = constant_affine(g, n, conv.outputs[0], out_type.rank(), channels);
    if (!f || !why_not_foldable(g, uses, conv, channels).empty()) return false;
    report.rewrote(n, "constant {} folded into '{}'", op_name(n.op), conv.name);
    fold_into(g, g.nodes[size_t(conv_index)], *f);
    absorb(g, size_t(conv_index), i);
    ++counts.chains;
    return true;
  }
  return false;
}

}  // namespace

PassReport fold_batchnorm(Graph& g) {
  PassReport report("fold-batchnorm");
  Counts counts;
  for (size_t i = 0; i < g.nodes.size();) {
    const OpKind op = g.nodes[i].op;
    if (op == OpKind::BatchNormalization)
      i = rewrite_batchnorm(g, i, report, counts);
    else if (is_affine_op(op) && fold_constant_after_conv(g, i, report, counts))
      continue;  // the next node is now at i
    else
      ++i;
  }
  report.summary("folded {} BatchNormalization and {} constant Mul/Add into weights; {} became scale+shift; {} left",
                 counts.folded, counts.chains, counts.lowered, g.count(OpKind::BatchNormalization));
  return report;
}

}  // namespace nnc
