// passes/insert_quantizers.cpp — put QuantizeLinear/DequantizeLinear pairs around every Conv the
// INT8 path can run, using the ranges calibration chose (passes/calibration.h).
//
//   before:  %y  f32[1,64,80,80] = Conv %x, @w, @b   act=Relu
//            %z  f32[1,64,80,80] = Conv %y, @w2
//   after:   %x.q   u8  = QuantizeLinear   %x, @x.scale, @x.zero
//            %x.dq  f32 = DequantizeLinear %x.q, @x.scale, @x.zero
//            %w.dq  f32 = DequantizeLinear @w.q, @w.scale, @w.zero   axis=0   (i8 per channel)
//            %y     f32 = Conv %x.dq, %w.dq, @b   act=Relu
//            %y.q   u8  = QuantizeLinear   %y, @y.scale, @y.zero
//            %y.dq  f32 = DequantizeLinear %y.q, ...
//            %z     f32 = Conv %y.dq, ...                                  (and so on)
//
// The graph still computes in f32 ("fake quantization"): running it shows exactly the error
// the INT8 scheme adds. passes/fold_quantized_ops.cpp then turns each DQ -> Conv -> Q into one
// integer QLinearConv and lets MaxPool and Concat run on the 8-bit values.
//
// A Conv is quantized when it is 2-D f32 with constant weights, its activation is none, Relu
// or Clip (the integer epilogue's), calibration saw its input, residual and output, and the
// table does not keep it in f32. (Thin output heads are quantized too: keeping U2Net's 1-map
// side convs in f32 made its masks no better, by 0.0004 mean abs, and the model 3% slower.) Ranges are shared where an op moves values without changing
// them, so that the fold pass can run it on 8 bits (see shared_ranges).
#include "passes/insert_quantizers.h"

#include <cmath>

#include "ops/epilogue.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

std::string why_not_quantizable(const Graph& g, const Node& n, const QuantizationTable& table,
                                const std::map<std::string, QuantParams>& params) {
  if (table.keep_float.count(n.name)) return "kept in f32 by request";
  if (g.type(n.inputs[0]).dtype != DType::F32) return "not f32";
  if (g.type(n.inputs[0]).rank() != 4) return "not a 2-D conv";
  const Tensor* w = g.const_data(n.inputs[1]);
  if (!w || w->dtype() != DType::F32) return "weights are not an f32 constant";
  if (n.has_input(2) && !g.const_data(n.inputs[2])) return "bias is not a constant";
  const Activation act = Activation::of(n);
  if (act.kind != Activation::Kind::None && act.kind != Activation::Kind::Relu && act.kind != Activation::Kind::Clip)
    return fmt::format("activation {} has no integer epilogue", attr_string(n, "act"));
  for (int i : {0, 3}) {
    if (!n.has_input(i)) continue;
    if (!params.count(g.value(n.inputs[size_t(i)]).name))
      return fmt::format("no calibrated range for input '{}'", g.value(n.inputs[size_t(i)]).name);
  }
  if (!params.count(g.value(n.outputs[0]).name)) return "no calibrated range for its output";
  return "";
}

// Ops whose output, in its input's quantization, is computed from the input's bytes: maxima and
// linear interpolation (weights that sum to one) of the dequantized values are those of the
// bytes, dequantized. fold-quantized-ops runs them on bytes when both sides share a quantization.
bool keeps_quantization(const Node& n) {
  if (n.op == OpKind::MaxPool) return n.outputs.size() == 1 || n.outputs[1] == kNoValue;
  if (n.op == OpKind::Resize) {
    const std::string mode = n.has_attr("mode") ? attr_string(n, "mode") : "nearest";
    return mode == "nearest" || mode == "linear";
  }
  return false;
}

// The table's ranges, shared so that ops can run on bytes: a MaxPool's or Resize's output takes
// its input's quantization; a Concat's inputs take its output's (the union of their ranges), and
// so do the inputs of the MaxPools and Resizes that feed it (U2Net's decoders concatenate an
// upsampled map with a skip).
std::map<std::string, QuantParams> shared_ranges(const Graph& g, const QuantizationTable& table) {
  std::map<std::string, QuantParams> params = table.activations;
  auto name = [&](ValueId v) { return g.value(v).name; };
  auto forward = [&] {
    for (const Node& n : g.nodes)
      if (keeps_quantization(n) && params.count(name(n.inputs[0]))) params[name(n.outputs[0])] = params[name(n.inputs[0])];
  };
  forward();
  const std::vector<int> producers = g.producers();
  for (auto it = g.nodes.rbegin(); it != g.nodes.rend(); ++it) {
    if (it->op != OpKind::Concat || !params.count(name(it->outputs[0]))) continue;
    const QuantParams shared = params[name(it->outputs[0])];
    for (ValueId in : it->inputs) {
      ValueId v = in;
      params[name(v)] = shared;
      for (int hops = 0; hops < 8 && producers[size_t(v)] >= 0 && keeps_quantization(g.nodes[size_t(producers[size_t(v)])]); ++hops) {
        v = g.nodes[size_t(producers[size_t(v)])].inputs[0];
        params[name(v)] = shared;
      }
    }
  }
  forward();  // a pooled skip whose input a Concat re-quantized follows it
  return params;
}

}  // namespace

namespace {

// Bias correction: the Conv's output mean moves by (W_q − W) · E[x] per output channel when its
// weights are rounded; the bias takes that back. `means` holds E[x] per input channel. (Output
// pixels at the border read padding, not E[x]: the correction is for the interior.)
void correct_bias(Graph& g, Node& conv, const Tensor& weight, const QuantizedWeight& qw, const std::vector<double>& means,
                  PassReport& report) {
  const Dims& d = weight.dims();
  const int64_t maps = d[0], per_group_in = d[1], taps = d[2] * d[3];
  const int64_t groups = conv.has_attr("group") ? attr_int(conv, "group") : 1;
  if (groups <= 0 || maps % groups != 0 || int64_t(means.size()) != per_group_in * groups) return;
  const int64_t maps_per_group = maps / groups;
  std::vector<float> bias(size_t(maps), 0.0f);
  if (conv.has_input(2)) {
    const Tensor* b = g.const_data(conv.inputs[2]);
    if (!b || b->numel() != maps || b->dtype() != DType::F32) return;
    for (int64_t m = 0; m < maps; ++m) bias[size_t(m)] = b->data<float>()[m];
  }
  double largest = 0;
  for (int64_t m = 0; m < maps; ++m) {
    const double scale = qw.scales.data<float>()[m];
    const int64_t first_channel = (m / maps_per_group) * per_group_in;
    double shift = 0;
    for (int64_t c = 0; c < per_group_in; ++c)
      for (int64_t t = 0; t < taps; ++t) {
        const int64_t e = (m * per_group_in + c) * taps + t;
        shift += (double(qw.values.data<int8_t>()[e]) * scale - double(weight.data<float>()[e])) * means[size_t(first_channel + c)];
      }
    if (!std::isfinite(shift)) return;
    bias[size_t(m)] = float(bias[size_t(m)] - shift);
    largest = std::max(largest, std::fabs(shift));
  }
  const ValueId corrected =
      g.add_const(g.unique_value_name(g.value(conv.outputs[0]).name + ".bias_corrected"), Tensor::from_vector(Dims{maps}, bias));
  if (conv.has_input(2)) conv.inputs[2] = corrected;
  else {
    conv.inputs.resize(std::max<size_t>(conv.inputs.size(), 3), kNoValue);
    conv.inputs[2] = corrected;
  }
  report.note("'{}': bias corrected by up to {:.3g}", conv.name, largest);
}

}  // namespace

QuantizedWeight quantize_weight_per_channel(const Tensor& weight) {
  const int64_t channels = weight.dims()[0], per_channel = weight.numel() / std::max<int64_t>(1, channels);
  QuantizedWeight q{Tensor(DType::I8, weight.dims()), Tensor(DType::F32, Dims{channels})};
  const float* w = weight.data<float>();
  for (int64_t m = 0; m < channels; ++m) {
    float top = 0;
    for (int64_t i = 0; i < per_channel; ++i) top = std::max(top, std::fabs(w[m * per_channel + i]));
    const float scale = top > 0 ? top / 127.0f : 1.0f;
    q.scales.data<float>()[m] = scale;
    for (int64_t i = 0; i < per_channel; ++i)
      q.values.data<int8_t>()[m * per_channel + i] =
          int8_t(std::clamp(std::nearbyint(w[m * per_channel + i] / scale), -127.0f, 127.0f));
  }
  return q;
}

PassReport insert_quantizers(Graph& g, const QuantizationTable& table) {
  PassReport report("insert-quantizers");
  const std::map<std::string, QuantParams> params = shared_ranges(g, table);
  std::vector<bool> quantize(g.nodes.size(), false);
  bool any = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpKind::Conv) continue;
    if (std::string why = why_not_quantizable(g, n, table, params); !why.empty()) {
      report.refused(n, "{}", why);
      continue;
    }
    quantize[i] = any = true;
  }
  if (!any) {
    report.summary("no Conv to quantize");
    return report;
  }

  auto scalar = [&](std::string base, const Tensor& t) { return g.add_const(g.unique_value_name(base), t); };
  auto scale_zero = [&](const std::string& base, const QuantParams& p) {
    Tensor scale(DType::F32, Dims{});
    scale.data<float>()[0] = p.scale;
    Tensor zero(p.is_unsigned ? DType::U8 : DType::I8, Dims{});
    if (p.is_unsigned) zero.data<uint8_t>()[0] = uint8_t(p.zero_point);
    else zero.data<int8_t>()[0] = int8_t(p.zero_point);
    return std::pair{scalar(base + ".scale", scale), scalar(base + ".zero", zero)};
  };
  const DType qtype = [&] {
    for (const auto& [name, p] : params) return p.is_unsigned ? DType::U8 : DType::I8;
    return DType::U8;
  }();

  std::vector<Node> old_nodes = std::move(g.nodes);
  g.nodes.clear();
  size_t current = 0;  // the node being rewritten: round_trip redirects the readers after it
  std::map<ValueId, ValueId> dequantized;  // f32 value -> its Q/DQ round trip
  std::set<ValueId> round_trips;            // the DQ outputs made here
  // Emits x -> Q -> DQ (once per value) and returns the DQ output. `base` is x's name in the
  // calibrated graph (the table's key), taken by value: adding values may move the names.
  auto round_trip = [&](ValueId x, const std::string base, const std::string& origin) {
    if (round_trips.count(x)) return x;  // already a round trip (the output of a quantized Conv)
    if (auto it = dequantized.find(x); it != dequantized.end()) return it->second;
    const QuantParams& p = params.at(base);
    const auto [scale, zero] = scale_zero(base, p);
    const TensorType& t = g.type(x);
    const ValueId q = g.add_value(g.unique_value_name(base + ".q"), TensorType{qtype, t.shape});
    const ValueId dq = g.add_value(g.unique_value_name(base + ".dq"), t);
    g.add_node(OpKind::QuantizeLinear, g.unique_node_name(base + ".quantize"), {x, scale, zero}, {q}).sources = {origin};
    g.add_node(OpKind::DequantizeLinear, g.unique_node_name(base + ".dequantize"), {q, scale, zero}, {dq}).sources = {origin};
    dequantized[x] = dq;
    round_trips.insert(dq);
    // Every later reader sees the round trip, as in a QDQ model: then a MaxPool or Concat
    // between quantized Convs reads only DequantizeLinears and the fold pass can run it on
    // bytes. The graph output keeps its f32 value.
    for (size_t later = current + 1; later < old_nodes.size(); ++later)
      for (ValueId& in : old_nodes[later].inputs)
        if (in == x) in = dq;
    return dq;
  };

  int quantized = 0;
  for (; current < old_nodes.size(); ++current) {
    Node n = std::move(old_nodes[current]);
    if (!quantize[current]) {
      // A MaxPool or Resize of a round trip gets one too, so that it can run on bytes.
      const bool on_bytes = keeps_quantization(n) && round_trips.count(n.inputs[0]) &&
                            params.count(g.value(n.outputs[0]).name) && !g.is_output(n.outputs[0]);
      const ValueId out = n.outputs[0];
      g.nodes.push_back(std::move(n));
      if (on_bytes) round_trip(out, g.value(out).name, "insert-quantizers");
      continue;
    }
    const std::string origin = "insert-quantizers";
    const std::string input_name = g.value(n.inputs[0]).name;  // the calibrated graph's name
    for (int input : {0, 3})
      if (n.has_input(input)) {
        const ValueId x = n.inputs[size_t(input)];
        n.inputs[size_t(input)] = round_trip(x, g.value(x).name, origin);
      }
    // Weights: i8 per output channel, dequantized for the f32 Conv (the fold pass reads the i8).
    const ValueId w = n.inputs[1];
    const std::string w_name = g.value(w).name;
    QuantizedWeight qw = quantize_weight_per_channel(*g.const_data(w));
    if (table.bias_correction)
      if (const auto means = table.channel_means.find(input_name); means != table.channel_means.end())
        correct_bias(g, n, *g.const_data(w), qw, means->second, report);
    Tensor zeros(DType::I8, qw.scales.dims());
    const ValueId w_q = g.add_const(g.unique_value_name(w_name + ".q"), std::move(qw.values));
    const ValueId w_scale = g.add_const(g.unique_value_name(w_name + ".scale"), std::move(qw.scales));
    const ValueId w_zero = g.add_const(g.unique_value_name(w_name + ".zero"), std::move(zeros));
    const ValueId w_dq = g.add_value(g.unique_value_name(w_name + ".dq"), g.type(w));
    g.add_node(OpKind::DequantizeLinear, g.unique_node_name(w_name + ".dequantize"), {w_q, w_scale, w_zero}, {w_dq},
               {Attribute{"axis", int64_t{0}}})
        .sources = {origin};
    n.inputs[1] = w_dq;
    if (table.fixed_point) n.set_attr("requantize", std::string("fixed"));

    // Output: every reader (and the graph output, by name) now sees the Q/DQ round trip.
    const ValueId y = n.outputs[0];
    const std::string y_name = g.value(y).name;
    report.rewrote(n, "input, weights and output quantized ({} -> {})", g.value(n.inputs[0]).name, y_name);
    g.nodes.push_back(std::move(n));
    const bool is_output = g.is_output(y);
    if (is_output) g.rename_value(y, g.unique_value_name(y_name + ".f32"));
    const ValueId dq = round_trip(y, y_name, origin);
    for (ValueId& out : g.outputs)
      if (out == y) out = dq;
    if (is_output) g.rename_value(dq, y_name);
    ++quantized;
  }
  report.summary("quantized {} Conv", quantized);
  return report;
}

}  // namespace nnc
