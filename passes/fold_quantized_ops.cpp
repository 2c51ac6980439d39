// passes/fold_quantized_ops.cpp — turn Quantize/Dequantize pairs around f32 ops into ops that
// compute on the 8-bit values: the second half of INT8 (passes/insert_quantizers.cpp is the
// first), and how pre-quantized QDQ models (ONNX Runtime's quantizer) reach the INT8 kernels.
//
//   before:  %x.dq f32 = DequantizeLinear %x.q, @xs, @xz
//            %w.dq f32 = DequantizeLinear @w.q, @ws, @wz   axis=0
//            %y    f32 = Conv %x.dq, %w.dq, @b   act=Relu
//            %y.q  u8  = QuantizeLinear %y, @ys, @yz
//   after:   %y.q  u8  = QLinearConv %x.q, @xs, @xz, @w.q, @ws, @wz, @ys, @yz, @b.i32   act=Relu
//
// A MatMul between DequantizeLinears (B per tensor or per column) and a QuantizeLinear becomes a
// QLinearMatMul the same way, its bias an i32 input 8 (nnc's extension); one with a fused
// activation (a ViT's Gelu) stays f32 on the dequantized values.
//
// The bias becomes i32 at scale xs·ws[m]; a residual input read through a DequantizeLinear
// becomes QLinearConv's inputs 9-11; the activation (Relu or Clip) and `residual_after_act`
// stay attributes, applied before the one rounding (ops/requantize.h). Only a Conv whose weights
// arrive through a DequantizeLinear folds: one with f32 weights was left in f32 on purpose
// (--keep-float, mixed precision), even between quantized neighbours.
//
// Ops that move, take maxima of or linearly interpolate values run on the 8-bit values when the
// quantization before and after is the same: DQ -> MaxPool/Reshape/Flatten/Squeeze/Unsqueeze/
// Transpose/Split/Resize(nearest or linear) -> Q, and a Concat of DQs with one quantization followed by
// a Q of it. A Q of a DQ with the same
// quantization is the identity. The DequantizeLinears left without readers go with dead code.
#include "passes/fold_quantized_ops.h"

#include <algorithm>
#include <cmath>

#include "ops/epilogue.h"
#include "ops/interpreter.h"
#include "ops/op_def.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

// A Quantize/DequantizeLinear's parameters, when they are constants.
struct Quantization {
  ValueId q = kNoValue;        // the 8-bit side (DQ's input, Q's output)
  ValueId scale = kNoValue, zero = kNoValue;
  const Tensor* scale_data = nullptr;
  const Tensor* zero_data = nullptr;  // nullptr: omitted (u8, 0)
  int64_t axis = 1;
  bool per_tensor() const { return scale_data->numel() == 1; }
};

std::optional<Quantization> quantization_of(const Graph& g, const Node& n) {
  if (n.op != OpKind::DequantizeLinear && n.op != OpKind::QuantizeLinear) return std::nullopt;
  Quantization q;
  q.q = n.op == OpKind::DequantizeLinear ? n.inputs[0] : n.outputs[0];
  q.scale = n.inputs[1];
  q.scale_data = g.const_data(n.inputs[1]);
  if (!q.scale_data || q.scale_data->numel() < 1) return std::nullopt;
  if (n.has_input(2)) {
    q.zero = n.inputs[2];
    q.zero_data = g.const_data(n.inputs[2]);
    if (!q.zero_data || q.zero_data->numel() != q.scale_data->numel()) return std::nullopt;
  }
  q.axis = n.has_attr("axis") ? attr_int(n, "axis") : 1;
  if (!is_8bit(g.type(q.q).dtype)) return std::nullopt;
  return q;
}

double zero_point(const Quantization& q) { return q.zero_data ? q.zero_data->get_double(0) : 0.0; }

bool same_quantization(const Graph& g, const Quantization& a, const Quantization& b) {
  return a.per_tensor() && b.per_tensor() && g.type(a.q).dtype == g.type(b.q).dtype &&
         a.scale_data->get_double(0) == b.scale_data->get_double(0) && zero_point(a) == zero_point(b);
}

// The per-tensor DequantizeLinear producing v.
std::optional<Quantization> dequantized_input(const Graph& g, const Uses& uses, ValueId v) {
  const Node* p = uses.producer_of(g, v);
  if (!p || p->op != OpKind::DequantizeLinear) return std::nullopt;
  std::optional<Quantization> q = quantization_of(g, *p);
  if (!q || !q->per_tensor()) return std::nullopt;
  return q;
}

// The one reader of v when it is a per-tensor QuantizeLinear (and v no graph output).
const Node* sole_quantizer(const Graph& g, const Uses& uses, ValueId v) {
  if (!uses.single_use(g, v)) return nullptr;
  const Node& reader = g.nodes[size_t(uses.consumers[size_t(v)][0])];
  if (reader.op != OpKind::QuantizeLinear) return nullptr;
  std::optional<Quantization> q = quantization_of(g, reader);
  return q && q->per_tensor() ? &reader : nullptr;
}

ValueId zero_const(Graph& g, const std::string& base, DType type, const Dims& dims) {
  return g.add_const(g.unique_value_name(base), Tensor(type, dims));
}

// The Conv's weights as 8-bit values with scales and zero points (inputs 3-5 of QLinearConv).
struct Weights {
  ValueId q, scale, zero;
  std::vector<double> scales;  // per output channel
};

std::optional<Weights> integer_weights(Graph& g, const Uses& uses, const Node& conv, std::string& why) {
  const ValueId w = conv.inputs[1];
  const int64_t maps = g.type(w).shape.dims[0].value;
  if (const Node* p = uses.producer_of(g, w); p && p->op == OpKind::DequantizeLinear) {
    std::optional<Quantization> q = quantization_of(g, *p);
    if (!q || !g.const_data(q->q)) return why = "weights are not a constant behind a DequantizeLinear", std::nullopt;
    if (!q->per_tensor() && (q->axis != 0 || q->scale_data->numel() != maps))
      return why = "weight scales are not per tensor or per output channel", std::nullopt;
    Weights out{q->q, q->scale, q->zero, {}};
    for (int64_t m = 0; m < maps; ++m) out.scales.push_back(q->scale_data->get_double(q->per_tensor() ? 0 : m));
    if (out.zero == kNoValue) out.zero = zero_const(g, g.value(w).name + ".zero", g.type(q->q).dtype, q->scale_data->dims());
    return out;
  }
  // f32 weights mean nobody quantized this Conv (insert-quantizers left it in f32 on purpose).
  return why = "weights are not dequantized 8-bit constants (the Conv stays f32)", std::nullopt;
}

// The f32 bias values (a constant, or a dequantized constant), empty when absent.
std::optional<std::vector<double>> float_bias(const Graph& g, const Uses& uses, const Node& conv) {
  if (!conv.has_input(2)) return std::vector<double>{};
  const ValueId b = conv.inputs[2];
  if (const Tensor* t = g.const_data(b)) return t->to_double_vector();
  const Node* p = uses.producer_of(g, b);
  if (!p || p->op != OpKind::DequantizeLinear) return std::nullopt;
  // A dequantized i32 bias (ONNX Runtime's QDQ layout): (b − zero) · scale per element.
  if (p->inputs.size() >= 2 && g.type(p->inputs[0]).dtype == DType::I32) {
    const Tensor* raw = g.const_data(p->inputs[0]);
    const Tensor* scale = g.const_data(p->inputs[1]);
    const Tensor* zero = p->has_input(2) ? g.const_data(p->inputs[2]) : nullptr;
    const auto fits = [&](const Tensor* t) { return t->numel() == 1 || t->numel() == raw->numel(); };
    if (!raw || !scale || !fits(scale) || (zero && !fits(zero))) return std::nullopt;
    std::vector<double> out;
    for (int64_t i = 0; i < raw->numel(); ++i) {
      const int64_t s = scale->numel() == 1 ? 0 : i;
      out.push_back((raw->get_double(i) - (zero ? zero->get_double(zero->numel() == 1 ? 0 : i) : 0.0)) * scale->get_double(s));
    }
    return out;
  }
  return std::nullopt;
}

// The f32 bias (empty: none, zeros) as int32 at scale x_scale · w_scales[c], one value per output
// channel or column; `bias` holds one value per channel or one for all. nullopt, and `why`, when
// a value has no int32 form.
std::optional<Tensor> integer_bias(const std::vector<double>& bias, double x_scale, const std::vector<double>& w_scales,
                                   std::string& why) {
  Tensor out(DType::I32, Dims{int64_t(w_scales.size())});
  for (size_t c = 0; c < w_scales.size(); ++c) {
    const double unit = double(float(x_scale)) * double(float(w_scales[c]));
    const double b = bias.empty() ? 0.0 : bias[bias.size() == 1 ? 0 : c];
    // A NaN or infinite bias (or scale) has no int32 form; the op stays in float (found by tests/fuzz).
    if (!std::isfinite(b) || !std::isfinite(unit)) {
      why = fmt::format("its bias or scale for channel {} is not finite", c);
      return std::nullopt;
    }
    out.data<int32_t>()[c] = unit > 0 ? int32_t(std::clamp(std::nearbyint(b / unit), -2147483647.0, 2147483647.0)) : 0;
  }
  return out;
}

// Conv between DequantizeLinears and a QuantizeLinear -> QLinearConv. Returns why not, or "".
std::string fold_conv(Graph& g, const Uses& uses, int index, std::vector<bool>& erase, PassReport& report) {
  const Node conv = g.nodes[size_t(index)];
  if (g.type(conv.inputs[0]).dtype != DType::F32) return "not f32";
  const std::optional<Quantization> x = dequantized_input(g, uses, conv.inputs[0]);
  if (!x) return "its input is not read through a per-tensor DequantizeLinear";
  const Node* quantizer = sole_quantizer(g, uses, conv.outputs[0]);
  if (!quantizer) return "its output is not read by exactly one per-tensor QuantizeLinear";
  const Activation act = Activation::of(conv);
  if (act.kind != Activation::Kind::None && act.kind != Activation::Kind::Relu && act.kind != Activation::Kind::Clip)
    return fmt::format("activation {} has no integer epilogue", attr_string(conv, "act"));
  std::optional<Quantization> residual;
  if (conv.has_input(3)) {
    residual = dequantized_input(g, uses, conv.inputs[3]);
    if (!residual) return "its residual is not read through a per-tensor DequantizeLinear";
  }
  const std::optional<std::vector<double>> bias = float_bias(g, uses, conv);
  if (!bias) return "its bias is not a constant";
  std::string why;
  const std::optional<Weights> w = integer_weights(g, uses, conv, why);
  if (!w) return why;
  const std::optional<Quantization> y = quantization_of(g, *quantizer);

  std::optional<Tensor> bias_i32 = integer_bias(*bias, x->scale_data->get_double(0), w->scales, why);
  if (!bias_i32) return why;
  const std::string base = g.value(conv.outputs[0]).name;
  const ValueId x_zero = x->zero != kNoValue ? x->zero : zero_const(g, base + ".x_zero", DType::U8, Dims{});
  const ValueId y_zero = y->zero != kNoValue ? y->zero : zero_const(g, base + ".y_zero", DType::U8, Dims{});
  const ValueId b = g.add_const(g.unique_value_name(base + ".bias_i32"), std::move(*bias_i32));
  std::vector<ValueId> inputs = {x->q, x->scale, x_zero, w->q, w->scale, w->zero, y->scale, y_zero, b};
  if (residual) {
    inputs.push_back(residual->q);
    inputs.push_back(residual->scale);
    inputs.push_back(residual->zero != kNoValue ? residual->zero : zero_const(g, base + ".r_zero", DType::U8, Dims{}));
  }
  Node q;
  q.op = OpKind::QLinearConv;
  q.name = conv.name;
  q.inputs = std::move(inputs);
  q.outputs = quantizer->outputs;
  q.attrs = conv.attrs;
  const int quantizer_index = uses.producer_index(quantizer->outputs[0]);
  replace_pattern(g, index, {quantizer_index}, std::move(q), erase);
  // replace_pattern keeps root's outputs; the folded node writes the quantizer's instead.
  g.nodes[size_t(index)].outputs = g.nodes[size_t(quantizer_index)].outputs;
  report.rewrote(g.nodes[size_t(index)], "DequantizeLinear -> Conv -> QuantizeLinear is one integer QLinearConv{}",
                 residual ? " with a quantized residual" : "");
  return "";
}

// MatMul between DequantizeLinears and a QuantizeLinear -> QLinearMatMul (with nnc's i32 bias
// per column when the MatMul has a bias). B is dequantized per tensor, or per column (axis −1 of
// a 2-D constant). Returns why not, or "".
std::string fold_matmul(Graph& g, const Uses& uses, int index, std::vector<bool>& erase, PassReport& report) {
  const Node matmul = g.nodes[size_t(index)];
  if (g.type(matmul.inputs[0]).dtype != DType::F32) return "not f32";
  if (matmul.has_attr("act")) return fmt::format("activation {} has no integer epilogue here", attr_string(matmul, "act"));
  const std::optional<Quantization> a = dequantized_input(g, uses, matmul.inputs[0]);
  // Or log2 codes (QSoftmax's log2 output): A = 2^−code, the sum a sum of shifts of B.
  const Node* a_producer = uses.producer_of(g, matmul.inputs[0]);
  const bool a_log2 = !a && a_producer && a_producer->op == OpKind::Log2Dequantize && !matmul.has_input(2);
  if (!a && !a_log2) return "A is not read through a per-tensor DequantizeLinear or a Log2Dequantize";
  const Node* b_dq = uses.producer_of(g, matmul.inputs[1]);
  std::optional<Quantization> b = b_dq ? quantization_of(g, *b_dq) : std::nullopt;
  if (!b || b_dq->op != OpKind::DequantizeLinear) return "B is not read through a DequantizeLinear";
  const TensorType b_type = g.type(b->q);  // a copy: constants are added below
  if (!b_type.shape.fully_known() || b_type.rank() < 1) return "B's shape is not known";
  const int64_t columns = b_type.shape.dims.back().value;
  if (!b->per_tensor()) {
    const bool last_axis = b->axis == -1 || b->axis == b_type.rank() - 1;
    if (b_type.rank() != 2 || !last_axis || b->scale_data->numel() != columns) return "B's scales are not per tensor or per column";
  }
  const Node* quantizer = sole_quantizer(g, uses, matmul.outputs[0]);
  if (!quantizer) return "its output is not read by exactly one per-tensor QuantizeLinear";
  const std::optional<std::vector<double>> bias = float_bias(g, uses, matmul);
  if (!bias) return "its bias is not a constant";
  if (!bias->empty() && int64_t(bias->size()) != columns && bias->size() != 1) return "its bias is not one value per column";
  std::optional<Tensor> bias_i32;
  if (!bias->empty()) {
    std::vector<double> b_scales;
    for (int64_t n = 0; n < columns; ++n) b_scales.push_back(b->scale_data->get_double(b->per_tensor() ? 0 : n));
    std::string why;
    bias_i32 = integer_bias(*bias, a->scale_data->get_double(0), b_scales, why);  // (a log2 A has no bias)
    if (!bias_i32) return why;
  }
  const std::optional<Quantization> y = quantization_of(g, *quantizer);

  const std::string base = g.value(matmul.outputs[0]).name;
  std::vector<ValueId> inputs;
  if (a_log2) {  // the codes, at scale 1 (their meaning is the attribute's)
    const ValueId codes = a_producer->inputs[0];
    const std::string name = g.value(codes).name;
    inputs = {codes, g.add_const(g.unique_value_name(name + ".unit"), Tensor::from_vector(Dims{}, std::vector<float>{1.0f})),
              zero_const(g, name + ".zero", DType::U8, Dims{})};
  } else {
    inputs = {a->q, a->scale, a->zero != kNoValue ? a->zero : zero_const(g, base + ".a_zero", DType::U8, Dims{})};
  }
  const ValueId b_zero = b->zero != kNoValue ? b->zero : zero_const(g, base + ".b_zero", b_type.dtype, b->scale_data->dims());
  const ValueId y_zero = y->zero != kNoValue ? y->zero : zero_const(g, base + ".y_zero", DType::U8, Dims{});
  inputs.insert(inputs.end(), {b->q, b->scale, b_zero, y->scale, y_zero});
  if (bias_i32) inputs.push_back(g.add_const(g.unique_value_name(base + ".bias_i32"), std::move(*bias_i32)));
  Node q;
  q.op = OpKind::QLinearMatMul;
  q.name = matmul.name;
  q.inputs = std::move(inputs);
  if (a_log2) q.set_attr("a_encoding", std::string("log2"));
  q.outputs = quantizer->outputs;
  const int quantizer_index = uses.producer_index(quantizer->outputs[0]);
  replace_pattern(g, index, {quantizer_index}, std::move(q), erase);
  g.nodes[size_t(index)].outputs = g.nodes[size_t(quantizer_index)].outputs;
  report.rewrote(g.nodes[size_t(index)], "DequantizeLinear -> MatMul -> QuantizeLinear is one integer QLinearMatMul{}{}",
                 bias->empty() ? "" : " with its bias", a_log2 ? " (A log2 codes: B shifted and summed)" : "");
  return "";
}

// Ops whose output, in the input's quantization, is computed from the input's bytes: they move
// values, take maxima, or interpolate linearly (weights summing to one commute with the affine
// dequantization; the byte kernels round the interpolated value once, as Q(Resize(DQ(q))) does).
bool computes_on_bytes(const Node& n) {
  switch (n.op) {
    case OpKind::MaxPool: return n.outputs.size() == 1 || n.outputs[1] == kNoValue;
    case OpKind::Reshape: case OpKind::Flatten: case OpKind::Squeeze: case OpKind::Unsqueeze:
    case OpKind::Transpose: case OpKind::Split: return true;
    case OpKind::Resize: {
      const std::string mode = n.has_attr("mode") ? attr_string(n, "mode") : "nearest";
      return mode == "nearest" || mode == "linear";
    }
    default: return false;
  }
}

// DQ -> (value-moving op) -> Q with one quantization: the op reads and writes the 8-bit values.
bool fold_mover(Graph& g, const Uses& uses, int index, std::vector<bool>& erase, PassReport& report) {
  const Node& n = g.nodes[size_t(index)];
  std::vector<Quantization> ins;
  const size_t data_inputs = n.op == OpKind::Concat ? n.inputs.size() : 1;
  for (size_t i = 0; i < data_inputs; ++i) {
    std::optional<Quantization> q = dequantized_input(g, uses, n.inputs[i]);
    if (!q || (!ins.empty() && !same_quantization(g, *q, ins[0]))) return false;
    ins.push_back(*q);
  }
  // Every output (a Split has several) read by one QuantizeLinear with the same quantization.
  std::vector<ValueId> quantized_outputs;
  std::set<int> quantizers;
  for (ValueId out : n.outputs) {
    if (out == kNoValue) return false;
    const Node* quantizer = sole_quantizer(g, uses, out);
    if (!quantizer || !same_quantization(g, *quantization_of(g, *quantizer), ins[0])) return false;
    quantized_outputs.push_back(quantizer->outputs[0]);
    quantizers.insert(uses.producer_index(quantizer->outputs[0]));
  }
  Node moved = n;
  for (size_t i = 0; i < data_inputs; ++i) moved.inputs[i] = ins[i].q;
  replace_pattern(g, index, quantizers, std::move(moved), erase);
  g.nodes[size_t(index)].outputs = quantized_outputs;
  report.rewrote(g.nodes[size_t(index)], "runs on the 8-bit values (same quantization before and after)");
  return true;
}

}  // namespace

PassReport fold_quantized_ops(Graph& g) {
  PassReport report("fold-quantized-ops");
  std::vector<bool> erase(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (erase[i]) continue;
    const Uses uses(g);  // each fold moves a value's producer: look again
    Node& n = g.nodes[i];
    if (n.op == OpKind::Conv) {
      if (std::string why = fold_conv(g, uses, int(i), erase, report); !why.empty()) report.refused(g.nodes[i], "{}", why);
    } else if (n.op == OpKind::MatMul) {
      if (std::string why = fold_matmul(g, uses, int(i), erase, report); !why.empty()) report.refused(g.nodes[i], "{}", why);
    } else if (computes_on_bytes(n) || n.op == OpKind::Concat) {
      fold_mover(g, uses, int(i), erase, report);
    } else if (n.op == OpKind::QuantizeLinear) {
      // Q(DQ(q)) with the same quantization is q itself.
      const std::optional<Quantization> in = dequantized_input(g, uses, n.inputs[0]);
      const std::optional<Quantization> out = quantization_of(g, n);
      if (in && out && out->per_tensor() && same_quantization(g, *in, *out) && !g.is_output(n.outputs[0])) {
        g.replace_uses(n.outputs[0], in->q);
        erase[i] = true;
        report.rewrote(n, "quantizes what a DequantizeLinear with the same scale just dequantized");
      }
    }
  }
  const int integer_ops = report.rewrites();
  int evaluated = 0;
  // A DequantizeLinear of constant weights left for an op that stays f32 (a MatMul with a fused
  // Gelu; a Conv kept in f32 by request is not one: its weights were never quantized) is the
  // same f32 tensor every run: evaluate it once. (A folded op reads the 8-bit weights instead.)
  const Uses after(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (erase[i] || n.op != OpKind::DequantizeLinear || g.is_output(n.outputs[0])) continue;
    const std::vector<int>& readers = after.consumers[size_t(n.outputs[0])];
    if (std::none_of(readers.begin(), readers.end(), [&](int j) { return !erase[size_t(j)]; })) continue;
    std::vector<const Tensor*> inputs;
    for (ValueId v : n.inputs) inputs.push_back(v == kNoValue ? nullptr : g.const_data(v));
    if (std::any_of(n.inputs.begin(), n.inputs.end(), [&](ValueId v) { return v != kNoValue && !g.const_data(v); })) continue;
    std::vector<Tensor> values = run_node(n, inputs, g.opset);
    const ValueId folded = g.add_const(g.unique_value_name(g.value(n.outputs[0]).name), std::move(values[0]));
    g.replace_uses(n.outputs[0], folded);
    erase[i] = true;
    ++evaluated;
    report.note("'{}' dequantizes constant weights for an f32 op: evaluated once", n.name);
    report.count_change();
  }
  // Erasing first would shift indices the loop relies on.
  g.erase_nodes(erase);
  report.summary("{} ops now compute on 8-bit values{}", integer_ops,
                 evaluated ? fmt::format("; {} dequantized constant weights evaluated once", evaluated) : "");
  return report;
}

}  // namespace nnc
