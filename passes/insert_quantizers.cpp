// passes/insert_quantizers.cpp — put QuantizeLinear/DequantizeLinear pairs around every Conv and
// MatMul the INT8 path can run, using the ranges calibration chose (passes/calibration.h).
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
// Transformers: a MatMul is quantized like a Conv (a constant B per column, an activation B per
// tensor; any fused activation, since its output is quantized after it), and so is a Gemm that
// is a MatMul with a bias (a classifier head), rewritten as one. On request, FQ-ViT's
// integer LayerNorm and Softmax replace the f32 ones directly (Q -> QLayerNorm -> DQ, Q ->
// QSoftmax -> DQ or Log2Dequantize): their integer arithmetic (ops/quantized_transformer.cpp)
// is part of the error they add, so the fake-quantized graph runs it.
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

bool calibrated(const Graph& g, const std::map<std::string, QuantParams>& params, ValueId v) {
  return v != kNoValue && params.count(g.value(v).name);
}

std::string why_not_quantizable_matmul(const Graph& g, const Node& n, const QuantizationTable& table,
                                       const std::map<std::string, QuantParams>& params) {
  if (table.keep_float.count(n.name)) return "kept in f32 by request";
  if (g.type(n.inputs[0]).dtype != DType::F32) return "not f32";
  if (!calibrated(g, params, n.inputs[0])) return "no calibrated range for input A";
  if (const Tensor* b = g.const_data(n.inputs[1])) {
    if (b->dtype() != DType::F32 || b->rank() != 2) return "B is a constant but not a 2-D f32 matrix";
  } else if (!calibrated(g, params, n.inputs[1])) {
    return "no calibrated range for input B";
  }
  if (n.has_input(2) && !g.const_data(n.inputs[2])) return "bias is not a constant";
  if (!calibrated(g, params, n.outputs[0])) return "no calibrated range for its output";
  return "";
}

// A Gemm that is a MatMul with a bias: alpha = beta = 1, A not transposed, B a 2-D f32
// constant, C absent or a constant of one value per column. Returns why not, or "".
std::string why_not_matmul_form(const Graph& g, const Node& n) {
  auto flag = [&](std::string_view name) { return n.has_attr(name) && attr_int(n, name) != 0; };
  auto factor = [&](std::string_view name) { return n.has_attr(name) ? attr_float(n, name) : 1.0f; };
  if (factor("alpha") != 1 || factor("beta") != 1) return "alpha or beta is not 1";
  if (flag("transA")) return "A is transposed";
  const Tensor* b = g.const_data(n.inputs[1]);
  if (!b || b->dtype() != DType::F32 || b->rank() != 2) return "B is not a 2-D f32 constant";
  const int64_t columns = flag("transB") ? b->dims()[0] : b->dims()[1];
  if (n.has_input(2)) {
    const Tensor* c = g.const_data(n.inputs[2]);
    if (!c || c->dtype() != DType::F32 || c->numel() != columns || (c->rank() == 2 && c->dims()[0] != 1))
      return "C is not a constant of one value per column";
  }
  return "";
}

// Rewrites such a Gemm as MatMul(A, B or Bᵀ, C as [N]) (its fused activation kept), the form
// the INT8 path quantizes.
void gemm_to_matmul(Graph& g, Node& n) {
  const Tensor& b = *g.const_data(n.inputs[1]);
  const bool transposed = n.has_attr("transB") && attr_int(n, "transB") != 0;
  if (transposed) {
    const int64_t rows = b.dims()[0], columns = b.dims()[1];
    Tensor bt(DType::F32, Dims{columns, rows});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < columns; ++c) bt.data<float>()[c * rows + r] = b.data<float>()[r * columns + c];
    n.inputs[1] = g.add_const(g.unique_value_name(g.value(n.inputs[1]).name + ".t"), std::move(bt));
  }
  if (n.has_input(2)) {
    const Tensor& c = *g.const_data(n.inputs[2]);
    n.inputs[2] = g.add_const(g.unique_value_name(g.value(n.inputs[2]).name + ".row"), c.reshaped(Dims{c.numel()}));
  }
  n.op = OpKind::MatMul;
  std::vector<Attribute> kept;
  for (const Attribute& a : n.attrs)
    if (a.name != "alpha" && a.name != "beta" && a.name != "transA" && a.name != "transB") kept.push_back(a);
  n.attrs = std::move(kept);
}

// The last axis of a value of known rank, as LayerNormalization/Softmax's `axis` must name.
bool is_last_axis(const Graph& g, const Node& n, ValueId x, int64_t default_axis) {
  const TensorType& t = g.type(x);
  if (!t.shape.rank_known || t.rank() < 1) return false;
  const int64_t axis = n.has_attr("axis") ? attr_int(n, "axis") : default_axis;
  return axis == -1 || axis == t.rank() - 1;
}

std::string why_not_quantizable_layernorm(const Graph& g, const Node& n, const QuantizationTable& table,
                                          const std::map<std::string, QuantParams>& params) {
  if (table.layernorm == QuantizationTable::LayerNorm::Float) return "LayerNorm stays f32 (--layernorm int8|ptf)";
  if (g.type(n.inputs[0]).dtype != DType::F32) return "not f32";
  if (!is_last_axis(g, n, n.inputs[0], -1)) return "does not normalize the last axis alone";
  for (size_t o = 1; o < n.outputs.size(); ++o)
    if (n.outputs[o] != kNoValue) return "its mean or inverse deviation is read";
  const TensorType& x = g.type(n.inputs[0]);
  if (!x.shape.dims.back().known()) return "its channel count is not known";
  const int64_t channels = x.shape.dims.back().value;
  for (int i : {1, 2}) {
    if (!n.has_input(i)) continue;
    const Tensor* t = g.const_data(n.inputs[size_t(i)]);
    if (!t || t->dtype() != DType::F32 || (t->numel() != channels && t->numel() != 1))
      return fmt::format("input {} is not an f32 constant of one value per channel", i);
  }
  if (!calibrated(g, params, n.inputs[0]) || !calibrated(g, params, n.outputs[0])) return "no calibrated range for its input or output";
  if (table.layernorm == QuantizationTable::LayerNorm::PowerOfTwoFactor) {
    const auto r = table.channel_ranges.find(g.value(n.inputs[0]).name);
    if (r == table.channel_ranges.end() || int64_t(r->second.low.size()) != channels) return "no per-channel ranges for its input";
  }
  return "";
}

std::string why_not_quantizable_softmax(const Graph& g, const Node& n, const QuantizationTable& table,
                                        const std::map<std::string, QuantParams>& params) {
  if (table.softmax == QuantizationTable::Softmax::Float) return "Softmax stays f32 (--softmax int8|log2)";
  if (g.type(n.inputs[0]).dtype != DType::F32) return "not f32";
  if (!is_last_axis(g, n, n.inputs[0], -1)) return "does not normalize the last axis";
  if (!calibrated(g, params, n.inputs[0]) || !calibrated(g, params, n.outputs[0])) return "no calibrated range for its input or output";
  return "";
}

// FQ-ViT's power-of-two factors for a LayerNorm input: the tensor's step (from its calibrated
// range) divided by 2^3 is the base; each channel takes the smallest 2^α (α in 0..3) whose
// range, around the shared zero point, covers the channel's.
std::vector<float> power_of_two_factor_scales(const QuantParams& tensor, const QuantizationTable::ChannelRanges& ranges) {
  constexpr int kMaxFactor = 3;
  const double base = double(tensor.scale) / (1 << kMaxFactor);
  const double below = tensor.is_unsigned ? tensor.zero_point : tensor.zero_point + 128;   // steps below zero
  const double above = tensor.is_unsigned ? 255 - tensor.zero_point : 127 - tensor.zero_point;
  std::vector<float> scales;
  for (size_t c = 0; c < ranges.low.size(); ++c) {
    int alpha = 0;
    while (alpha < kMaxFactor &&
           (ranges.high[c] > above * base * (1 << alpha) || ranges.low[c] < -below * base * (1 << alpha)))
      ++alpha;
    scales.push_back(float(base * (1 << alpha)));
  }
  return scales;
}

// Ops whose output, in its input's quantization, is computed from the input's bytes: maxima and
// linear interpolation (weights that sum to one) of the dequantized values are those of the
// bytes, dequantized. fold-quantized-ops runs them on bytes when both sides share a quantization.
bool keeps_quantization(const Node& n) {
  if (n.op == OpKind::MaxPool) return n.outputs.size() == 1 || n.outputs[1] == kNoValue;
  // Moving values (a transformer's heads split and transposed) changes no value.
  if (n.op == OpKind::Reshape || n.op == OpKind::Flatten || n.op == OpKind::Squeeze || n.op == OpKind::Unsqueeze ||
      n.op == OpKind::Transpose || n.op == OpKind::Split)
    return true;
  if (n.op == OpKind::Resize) {
    const std::string mode = n.has_attr("mode") ? attr_string(n, "mode") : "nearest";
    return mode == "nearest" || mode == "linear";
  }
  return false;
}

// The table's ranges, shared so that ops can run on bytes: a MaxPool's, Resize's or value-moving
// op's (Reshape, Transpose, Split, ...) outputs take its input's quantization; a Concat's inputs take its output's (the union of their ranges), and
// so do the inputs of the MaxPools and Resizes that feed it (U2Net's decoders concatenate an
// upsampled map with a skip).
std::map<std::string, QuantParams> shared_ranges(const Graph& g, const QuantizationTable& table) {
  std::map<std::string, QuantParams> params = table.activations;
  auto name = [&](ValueId v) { return g.value(v).name; };
  auto forward = [&] {
    for (const Node& n : g.nodes)
      if (keeps_quantization(n) && params.count(name(n.inputs[0])))
        for (ValueId out : n.outputs)
          if (out != kNoValue) params[name(out)] = params[name(n.inputs[0])];
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

namespace {
constexpr std::pair<QuantizationTable::LayerNorm, std::string_view> kLayerNormModes[] = {
    {QuantizationTable::LayerNorm::Float, "f32"},
    {QuantizationTable::LayerNorm::Int8, "int8"},
    {QuantizationTable::LayerNorm::PowerOfTwoFactor, "ptf"}};
constexpr std::pair<QuantizationTable::Softmax, std::string_view> kSoftmaxModes[] = {
    {QuantizationTable::Softmax::Float, "f32"}, {QuantizationTable::Softmax::Int8, "int8"}, {QuantizationTable::Softmax::Log2, "log2"}};

template <typename Mode, size_t N>
std::string_view mode_name(const std::pair<Mode, std::string_view> (&modes)[N], Mode mode) {
  for (const auto& [m, name] : modes)
    if (m == mode) return name;
  return "?";
}
template <typename Mode, size_t N>
std::optional<Mode> parse_mode(const std::pair<Mode, std::string_view> (&modes)[N], std::string_view text) {
  for (const auto& [m, name] : modes)
    if (name == text) return m;
  return std::nullopt;
}
}  // namespace

std::string_view layernorm_mode_name(QuantizationTable::LayerNorm mode) { return mode_name(kLayerNormModes, mode); }
std::optional<QuantizationTable::LayerNorm> parse_layernorm_mode(std::string_view name) { return parse_mode(kLayerNormModes, name); }
std::string_view softmax_mode_name(QuantizationTable::Softmax mode) { return mode_name(kSoftmaxModes, mode); }
std::optional<QuantizationTable::Softmax> parse_softmax_mode(std::string_view name) { return parse_mode(kSoftmaxModes, name); }

QuantizedWeight quantize_weight_per_column(const Tensor& matrix) {
  const int64_t rows = matrix.dims()[0], columns = matrix.dims()[1];
  QuantizedWeight q{Tensor(DType::I8, matrix.dims()), Tensor(DType::F32, Dims{columns})};
  const float* w = matrix.data<float>();
  for (int64_t n = 0; n < columns; ++n) {
    float top = 0;
    for (int64_t k = 0; k < rows; ++k) top = std::max(top, std::fabs(w[k * columns + n]));
    q.scales.data<float>()[n] = top > 0 && std::isfinite(top) ? top / 127.0f : 1.0f;
  }
  for (int64_t i = 0; i < matrix.numel(); ++i)
    q.values.data<int8_t>()[i] =
        int8_t(std::clamp(std::nearbyint(w[i] / q.scales.data<float>()[i % columns]), -127.0f, 127.0f));
  return q;
}

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
  int candidates = 0;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    std::string why;
    if (n.op == OpKind::Conv) why = why_not_quantizable(g, n, table, params);
    else if (n.op == OpKind::MatMul) why = why_not_quantizable_matmul(g, n, table, params);
    else if (n.op == OpKind::Gemm) {
      why = why_not_matmul_form(g, n);
      if (why.empty()) why = why_not_quantizable_matmul(g, n, table, params);
    }
    else if (n.op == OpKind::LayerNormalization) why = why_not_quantizable_layernorm(g, n, table, params);
    else if (n.op == OpKind::Softmax) why = why_not_quantizable_softmax(g, n, table, params);
    else continue;
    if (!why.empty()) {
      report.refused(n, "{}", why);
      continue;
    }
    quantize[i] = true;
    ++candidates;
  }
  if (candidates == 0) {
    report.summary("no Conv or MatMul to quantize");
    return report;
  }

  auto scalar = [&](std::string base, const Tensor& t) { return g.add_const(g.unique_value_name(base), t); };
  const DType qtype = [&] {
    for (const auto& [name, p] : params) return p.is_unsigned ? DType::U8 : DType::I8;
    return DType::U8;
  }();
  // A zero point of `count` equal values (0: a scalar) of the activations' type.
  auto zero_tensor = [&](int32_t zero, int64_t count) {
    Tensor t(qtype, count == 0 ? Dims{} : Dims{count});
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (qtype == DType::U8) t.data<uint8_t>()[i] = uint8_t(zero);
      else t.data<int8_t>()[i] = int8_t(zero);
    }
    return t;
  };
  auto scale_zero = [&](const std::string& base, const QuantParams& p) {
    Tensor scale(DType::F32, Dims{});
    scale.data<float>()[0] = p.scale;
    return std::pair{scalar(base + ".scale", scale), scalar(base + ".zero", zero_tensor(p.zero_point, 0))};
  };

  std::vector<Node> old_nodes = std::move(g.nodes);
  g.nodes.clear();
  size_t current = 0;  // the node being rewritten: readers after it are redirected
  std::map<ValueId, ValueId> dequantized;  // f32 value -> its Q/DQ round trip
  // The dequantized outputs made here -> their {bytes, scale, zero} (empty for log2 codes).
  std::map<ValueId, std::vector<ValueId>> quantized_form;
  // Every later reader of `from` reads `to` instead, as in a QDQ model: then a MaxPool or
  // Concat between quantized ops reads only DequantizeLinears and the fold pass can run it on
  // bytes.
  auto redirect_readers = [&](ValueId from, ValueId to) {
    for (size_t later = current + 1; later < old_nodes.size(); ++later)
      for (ValueId& in : old_nodes[later].inputs)
        if (in == from) in = to;
  };
  // Emits x -> Q -> DQ (once per value) and returns the DQ output. `base` is x's name in the
  // calibrated graph (the table's key), taken by value: adding values may move the names.
  auto round_trip = [&](ValueId x, const std::string base, const std::string& origin) {
    if (quantized_form.count(x)) return x;  // already dequantized (the output of a quantized op)
    if (auto it = dequantized.find(x); it != dequantized.end()) return it->second;
    const QuantParams& p = params.at(base);
    const auto [scale, zero] = scale_zero(base, p);
    const TensorType t = g.type(x);  // a copy: adding values below may move the graph's values
    const ValueId q = g.add_value(g.unique_value_name(base + ".q"), TensorType{qtype, t.shape});
    const ValueId dq = g.add_value(g.unique_value_name(base + ".dq"), t);
    g.add_node(OpKind::QuantizeLinear, g.unique_node_name(base + ".quantize"), {x, scale, zero}, {q}).sources = {origin};
    g.add_node(OpKind::DequantizeLinear, g.unique_node_name(base + ".dequantize"), {q, scale, zero}, {dq}).sources = {origin};
    dequantized[x] = dq;
    quantized_form[dq] = {q, scale, zero};
    redirect_readers(x, dq);
    return dq;
  };
  // The op's f32 output `y` is now computed as `result` (a DequantizeLinear's): readers and the
  // graph output (by name) see it.
  auto replace_output = [&](ValueId y, ValueId result) {
    const std::string y_name = g.value(y).name;
    redirect_readers(y, result);
    const bool is_output = g.is_output(y);
    if (is_output) g.rename_value(y, g.unique_value_name(y_name + ".f32"));
    for (ValueId& out : g.outputs)
      if (out == y) out = result;
    if (is_output) g.rename_value(result, y_name);
  };
  // A constant weight in s8 (per output channel, or per column of a MatMul's B), dequantized
  // for the f32 op (the fold pass reads the s8).
  auto dequantized_weight = [&](ValueId w, QuantizedWeight qw, int64_t axis, const std::string& origin) {
    const std::string w_name = g.value(w).name;
    Tensor zeros(DType::I8, qw.scales.dims());
    const ValueId w_q = g.add_const(g.unique_value_name(w_name + ".q"), std::move(qw.values));
    const ValueId w_scale = g.add_const(g.unique_value_name(w_name + ".scale"), std::move(qw.scales));
    const ValueId w_zero = g.add_const(g.unique_value_name(w_name + ".zero"), std::move(zeros));
    const ValueId w_dq = g.add_value(g.unique_value_name(w_name + ".dq"), g.type(w));
    g.add_node(OpKind::DequantizeLinear, g.unique_node_name(w_name + ".dequantize"), {w_q, w_scale, w_zero}, {w_dq},
               {Attribute{"axis", axis}})
        .sources = {origin};
    return w_dq;
  };

  const std::string origin = "insert-quantizers";
  int counts[4] = {0, 0, 0, 0};  // Conv, MatMul, LayerNorm, Softmax
  for (; current < old_nodes.size(); ++current) {
    Node n = std::move(old_nodes[current]);
    if (!quantize[current]) {
      // A MaxPool, Resize or value-moving op of a round trip gets one too (each output), so
      // that it can run on bytes.
      bool on_bytes = keeps_quantization(n) && quantized_form.count(n.inputs[0]);
      for (ValueId out : n.outputs)
        on_bytes = on_bytes && out != kNoValue && params.count(g.value(out).name) && !g.is_output(out);
      const std::vector<ValueId> outs = n.outputs;
      g.nodes.push_back(std::move(n));
      if (on_bytes)
        for (ValueId out : outs) round_trip(out, g.value(out).name, origin);
      continue;
    }
    if (n.op == OpKind::LayerNormalization) {
      // Integer LayerNorm straight away (there is no f32 form of PTF's per-channel steps with a
      // shared zero point other than this): Q(x, per channel) -> QLayerNorm -> DQ.
      const ValueId x = n.inputs[0], y = n.outputs[0];
      const std::string x_name = g.value(x).name, y_name = g.value(y).name;
      const QuantParams& xp = params.at(x_name);
      const int64_t channels = g.type(x).shape.dims.back().value;
      const bool ptf = table.layernorm == QuantizationTable::LayerNorm::PowerOfTwoFactor;
      const std::vector<float> scales = ptf ? power_of_two_factor_scales(xp, table.channel_ranges.at(x_name))
                                            : std::vector<float>{xp.scale};
      const bool per_channel = scales.size() > 1;
      const ValueId x_scale = scalar(x_name + ".scale", per_channel ? Tensor::from_vector(Dims{channels}, scales)
                                                                    : Tensor::from_vector(Dims{}, scales));
      const ValueId x_zeros = scalar(x_name + ".zero", zero_tensor(xp.zero_point, per_channel ? channels : 0));
      const ValueId x_zero = per_channel ? scalar(x_name + ".zero", zero_tensor(xp.zero_point, 0)) : x_zeros;
      const ValueId xq = g.add_value(g.unique_value_name(x_name + ".q"), TensorType{qtype, g.type(x).shape});
      g.add_node(OpKind::QuantizeLinear, g.unique_node_name(x_name + ".quantize"), {x, x_scale, x_zeros}, {xq},
                 {Attribute{"axis", int64_t{-1}}})
          .sources = {origin};
      const auto [y_scale, y_zero] = scale_zero(y_name, params.at(y_name));
      const ValueId yq = g.add_value(g.unique_value_name(y_name + ".q"), TensorType{qtype, g.type(y).shape});
      const ValueId beta = n.has_input(2) ? n.inputs[2]
                                          : g.add_const(g.unique_value_name(y_name + ".beta"), Tensor(DType::F32, Dims{channels}));
      const float epsilon = n.has_attr("epsilon") ? attr_float(n, "epsilon") : 1e-5f;
      Node& q = g.add_node(OpKind::QLayerNorm, n.name, {xq, x_scale, x_zero, n.inputs[1], beta, y_scale, y_zero}, {yq},
                           {Attribute{"epsilon", epsilon}});
      q.sources = n.sources;
      report.rewrote(q, "integer LayerNorm, input {}", ptf ? "with power-of-two channel factors" : "per tensor");
      const ValueId dq = g.add_value(g.unique_value_name(y_name + ".dq"), g.type(y));
      g.add_node(OpKind::DequantizeLinear, g.unique_node_name(y_name + ".dequantize"), {yq, y_scale, y_zero}, {dq}).sources = {origin};
      quantized_form[dq] = {yq, y_scale, y_zero};
      replace_output(y, dq);
      ++counts[2];
      continue;
    }
    if (n.op == OpKind::Softmax) {
      // Integer Softmax: Q(x) -> QSoftmax -> DQ (uniform bytes) or Log2Dequantize (log2 codes).
      const ValueId x = n.inputs[0], y = n.outputs[0];
      const std::string y_name = g.value(y).name;
      // The bytes, scale and zero point of x's round trip (none when x is an integer op's
      // Log2Dequantize: then the Softmax stays f32).
      const std::vector<ValueId> form = quantized_form.at(round_trip(x, g.value(x).name, origin));
      if (form.empty()) {
        report.refused(n, "its input is not a per-tensor 8-bit value");
        g.nodes.push_back(std::move(n));
        continue;
      }
      const bool log2 = table.softmax == QuantizationTable::Softmax::Log2;
      std::vector<ValueId> inputs = form;
      std::vector<Attribute> attrs = {Attribute{"axis", int64_t{-1}}, Attribute{"output", std::string(log2 ? "log2" : "uniform")}};
      DType code_type = DType::U8;
      std::pair<ValueId, ValueId> y_scale_zero{kNoValue, kNoValue};
      if (log2) {
        attrs.push_back(Attribute{"bits", int64_t{4}});
      } else {
        y_scale_zero = scale_zero(y_name, params.at(y_name));
        inputs.push_back(y_scale_zero.first);
        inputs.push_back(y_scale_zero.second);
        code_type = qtype;
      }
      const ValueId yq = g.add_value(g.unique_value_name(y_name + ".q"), TensorType{code_type, g.type(y).shape});
      Node& q = g.add_node(OpKind::QSoftmax, n.name, inputs, {yq}, attrs);
      q.sources = n.sources;
      report.rewrote(q, "integer Softmax, {}", log2 ? "4-bit log2 output (log-int-softmax)" : "uniform 8-bit output");
      const ValueId dq = g.add_value(g.unique_value_name(y_name + ".dq"), g.type(y));
      if (log2) {
        g.add_node(OpKind::Log2Dequantize, g.unique_node_name(y_name + ".dequantize"), {yq}, {dq}).sources = {origin};
      } else {
        g.add_node(OpKind::DequantizeLinear, g.unique_node_name(y_name + ".dequantize"), {yq, y_scale_zero.first, y_scale_zero.second},
                   {dq})
            .sources = {origin};
      }
      quantized_form[dq] = log2 ? std::vector<ValueId>{} : std::vector<ValueId>{yq, y_scale_zero.first, y_scale_zero.second};
      replace_output(y, dq);
      ++counts[3];
      continue;
    }
    if (n.op == OpKind::Gemm) gemm_to_matmul(g, n);
    if (n.op == OpKind::MatMul) {
      n.inputs[0] = round_trip(n.inputs[0], g.value(n.inputs[0]).name, origin);
      if (const Tensor* b = g.const_data(n.inputs[1])) n.inputs[1] = dequantized_weight(n.inputs[1], quantize_weight_per_column(*b), 1, origin);
      else n.inputs[1] = round_trip(n.inputs[1], g.value(n.inputs[1]).name, origin);
      report.rewrote(n, "inputs and output quantized");
      const ValueId y = n.outputs[0];
      g.nodes.push_back(std::move(n));
      replace_output(y, round_trip(y, g.value(y).name, origin));
      ++counts[1];
      continue;
    }
    const std::string input_name = g.value(n.inputs[0]).name;  // the calibrated graph's name
    for (int input : {0, 3})
      if (n.has_input(input)) {
        const ValueId x = n.inputs[size_t(input)];
        n.inputs[size_t(input)] = round_trip(x, g.value(x).name, origin);
      }
    // Weights: i8 per output channel.
    const ValueId w = n.inputs[1];
    QuantizedWeight qw = quantize_weight_per_channel(*g.const_data(w));
    if (table.bias_correction)
      if (const auto means = table.channel_means.find(input_name); means != table.channel_means.end())
        correct_bias(g, n, *g.const_data(w), qw, means->second, report);
    n.inputs[1] = dequantized_weight(w, std::move(qw), 0, origin);
    if (table.fixed_point) n.set_attr("requantize", std::string("fixed"));
    const ValueId y = n.outputs[0];
    report.rewrote(n, "input, weights and output quantized ({} -> {})", g.value(n.inputs[0]).name, g.value(y).name);
    g.nodes.push_back(std::move(n));
    replace_output(y, round_trip(y, g.value(y).name, origin));
    ++counts[0];
  }
  std::vector<std::string> parts;
  const char* what[4] = {"Conv", "MatMul", "LayerNorm", "Softmax"};
  for (int k = 0; k < 4; ++k)
    if (counts[k] > 0 || k == 0) parts.push_back(fmt::format("{} {}", counts[k], what[k]));
  report.summary("quantized {}", fmt::join(parts, ", "));
  return report;
}

}  // namespace nnc
