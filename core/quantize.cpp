// core/quantize.cpp — see quantize.h.
#include "core/quantize.h"

#include "core/sha256.h"

#include <algorithm>
#include <cmath>

namespace nnc {
namespace {

struct Accumulated {
  double ref_sq = 0, err_sq = 0, dot = 0, out_sq = 0, abs_err = 0, max_abs = 0;
  int64_t count = 0;
  void add(double out, double ref) {
    const double e = out - ref;
    ref_sq += ref * ref, err_sq += e * e, dot += out * ref, out_sq += out * out;
    abs_err += std::fabs(e), max_abs = std::max(max_abs, std::fabs(e));
    ++count;
  }
  double rel_l2() const { return ref_sq > 0 ? std::sqrt(err_sq / ref_sq) : std::sqrt(err_sq); }
  double cosine() const { return ref_sq > 0 && out_sq > 0 ? dot / std::sqrt(ref_sq * out_sq) : 1.0; }
  double sqnr_db() const { return err_sq > 0 ? 10 * std::log10(ref_sq / err_sq) : 200.0; }
};

// QLinearConv and QLinearMatMul: the integer products (y_scale, y_zero at inputs 6, 7) whose own
// SQNR loss the report measures and that mixed precision can move back to f32.
bool is_integer_product(OpKind op) { return op == OpKind::QLinearConv || op == OpKind::QLinearMatMul; }

}  // namespace

std::shared_ptr<QuantizationTable> calibrate(const Model& f32, const std::vector<Batch>& batches,
                                             const QuantizeOptions& options) {
  if (batches.empty()) bad_input("calibration needs at least one input");
  const Graph& g = f32.graph();
  std::map<std::string, TensorObserver> observers;
  // For bias correction: per 4-D tensor, the sum per channel and the count of values summed.
  std::map<std::string, std::pair<std::vector<double>, int64_t>> channel_sums;
  const CalibrationOptions& c = options.calibration;
  const bool histograms = c.method != CalibrationMethod::MinMax && c.method != CalibrationMethod::Ema;
  // PTF needs each LayerNorm input's range per channel (the last axis).
  std::set<std::string> layernorm_inputs;
  if (options.layernorm == QuantizationTable::LayerNorm::PowerOfTwoFactor)
    for (const Node& n : g.nodes)
      if (n.op == OpKind::LayerNormalization) layernorm_inputs.insert(g.value(n.inputs[0]).name);
  std::map<std::string, QuantizationTable::ChannelRanges> channel_ranges;
  Session session(f32);
  for (int sweep = 0; sweep < (histograms ? 2 : 1); ++sweep) {
    auto watch = [&](const std::string& name, const Tensor& t) {
      if (t.dtype() != DType::F32) return;
      if (sweep == 0) observers[name].observe_range(t.data<float>(), t.numel(), c.ema_weight);
      if (sweep == 0 && layernorm_inputs.count(name) && t.rank() >= 1 && t.dims().back() > 0) {
        const int64_t channels = t.dims().back();
        auto& [low, high] = channel_ranges[name];
        if (low.empty()) low.assign(size_t(channels), INFINITY), high.assign(size_t(channels), -INFINITY);
        const float* data = t.data<float>();
        for (int64_t i = 0; i < t.numel() && int64_t(low.size()) == channels; ++i) {
          const size_t ch = size_t(i % channels);
          if (std::isfinite(data[i])) low[ch] = std::min(low[ch], data[i]), high[ch] = std::max(high[ch], data[i]);
        }
      }
      if (sweep == 0 && options.bias_correction && t.rank() == 4 && t.dims()[1] > 0) {
        const int64_t channels = t.dims()[1], plane = t.dims()[2] * t.dims()[3];
        auto& [sums, count] = channel_sums[name];
        sums.resize(size_t(channels), 0.0);
        const float* data = t.data<float>();
        for (int64_t n = 0; n < t.dims()[0]; ++n)
          for (int64_t ch = 0; ch < channels; ++ch) {
            double sum = 0;
            for (int64_t i = 0; i < plane; ++i) sum += data[(n * channels + ch) * plane + i];
            sums[size_t(ch)] += sum;
          }
        count += t.dims()[0] * plane;
      }
      else if (auto it = observers.find(name); it != observers.end()) it->second.observe_histogram(t.data<float>(), t.numel(), c.bins);
    };
    for (size_t b = 0; b < batches.size(); ++b) {
      for (const auto& [name, tensor] : batches[b]) watch(name, tensor);
      session.run(batches[b], nullptr, [&](const Node& node, int index, const Tensor& t) {
        watch(g.value(node.outputs[size_t(index)]).name, t);
      });
      if (options.progress) options.progress(sweep == 0 ? "ranges" : "histograms", b + 1, batches.size());
    }
  }
  auto table = std::make_shared<QuantizationTable>();
  for (const auto& [name, observer] : observers)
    if (observer.seen()) table->activations[name] = quant_params(observer.choose(c), c);
  table->fixed_point = options.fixed_point;
  table->bias_correction = options.bias_correction;
  for (auto& [name, sums_count] : channel_sums) {
    auto& [sums, count] = sums_count;
    if (count > 0)
      for (double& v : sums) v /= double(count);
    table->channel_means[name] = std::move(sums);
  }
  table->keep_float = options.keep_float;
  table->layernorm = options.layernorm;
  table->softmax = options.softmax;
  table->channel_ranges = std::move(channel_ranges);
  table->how = std::string(calibration_method_name(c.method));
  if (c.method == CalibrationMethod::Percentile) table->how += fmt::format(":{}", c.percentile);
  if (c.symmetric) table->how += ",s8";
  if (c.power_of_two) table->how += ",pow2";
  if (options.layernorm != QuantizationTable::LayerNorm::Float) table->how += fmt::format(",layernorm-{}", layernorm_mode_name(options.layernorm));
  if (options.softmax != QuantizationTable::Softmax::Float) table->how += fmt::format(",softmax-{}", softmax_mode_name(options.softmax));
  table->how += fmt::format(",{}-inputs", batches.size());
  Sha256 digest;  // what the ranges were learned from: a plan records it
  for (const Batch& batch : batches)
    for (const auto& [name, tensor] : batch) {
      const std::string header = fmt::format("{}:{}\n", name, to_string(tensor.type()));
      digest.update(header.data(), header.size());
      digest.update(tensor.bytes(), tensor.nbytes());
    }
  table->calibration_sha256 = digest.hex_digest();
  return table;
}

BudgetedModel quantize_within_budget(const std::filesystem::path& path, LoadOptions options, const Model& f32,
                                     std::shared_ptr<QuantizationTable> table, const std::vector<Batch>& batches,
                                     double budget, const std::function<void(const std::string&)>& log) {
  if (!(budget > 0)) bad_input("the accuracy budget must be positive, got {}", budget);
  for (int round = 1;; ++round) {
    options.passes.quantization = table;
    Model int8 = load_model(path, options);
    const QuantizationReport report = quantization_report(f32, int8, batches);
    double worst = 0;
    for (const OutputError& o : report.outputs) worst = std::max(worst, o.rel_l2);
    // The integer Convs, those that lose most over their input's SQNR first (ranking by their
    // output's SQNR alone would blame the deepest layers for what they inherit).
    std::vector<const LayerError*> convs;
    for (const LayerError& l : report.layers)
      if (!std::isnan(l.sqnr_drop_db)) convs.push_back(&l);
    std::stable_sort(convs.begin(), convs.end(),
                     [](const LayerError* a, const LayerError* b) { return a->sqnr_drop_db > b->sqnr_drop_db; });
    std::vector<std::string> quantized;
    for (const LayerError* l : convs) quantized.push_back(l->node);
    // Then the rest (their input not measured, e.g. next to a Conv already kept in f32), by SQNR.
    for (const Node& n : int8.graph().nodes)
      if (is_integer_product(n.op) && std::find(quantized.begin(), quantized.end(), n.name) == quantized.end())
        quantized.push_back(n.name);
    if (log)
      log(fmt::format("round {}: {} Conv/MatMul in INT8, {} kept in f32, worst output rel L2 {:.4g} (budget {:.4g})", round,
                      quantized.size(), table->keep_float.size(), worst, budget));
    if (worst <= budget || quantized.empty() || round >= 40) return BudgetedModel{std::move(int8), worst, round};
    // Move the worst tenth (at least one) back to f32 and try again: with every Conv in f32 the
    // error is f32's own, so the loop ends within the budget at worst that way.
    auto next = std::make_shared<QuantizationTable>(*table);
    const size_t count = std::max<size_t>(1, quantized.size() / 10);
    std::vector<std::string> moved;
    for (size_t i = 0; i < count && i < quantized.size(); ++i) next->keep_float.insert(quantized[i]), moved.push_back(quantized[i]);
    if (log) log(fmt::format("  to f32: {}", fmt::join(moved, " ")));
    table = next;
  }
}

std::optional<QuantParams> quantization_of_value(const Graph& g, ValueId v) {
  const std::vector<int> producers = g.producers();
  for (int hops = 0; hops < 64 && v != kNoValue; ++hops) {
    const int p = producers[size_t(v)];
    if (p < 0) return std::nullopt;
    const Node& n = g.nodes[size_t(p)];
    int scale = -1, zero = -1;
    if (is_integer_product(n.op)) scale = 6, zero = 7;
    else if (n.op == OpKind::QuantizeLinear) scale = 1, zero = 2;
    else if (n.op == OpKind::QLayerNorm) scale = 5, zero = 6;
    else if (n.op == OpKind::QSoftmax && n.has_input(3)) scale = 3, zero = 4;
    else if (n.op == OpKind::QSoftmax) return std::nullopt;  // log2 codes: no scale and zero point
    if (scale >= 0) {
      const Tensor* s = g.const_data(n.inputs[size_t(scale)]);
      const Tensor* z = n.has_input(zero) ? g.const_data(n.inputs[size_t(zero)]) : nullptr;
      if (!s || s->numel() != 1) return std::nullopt;
      QuantParams q;
      q.scale = float(s->get_double(0));
      q.zero_point = z ? int32_t(z->get_int(0)) : 0;
      q.is_unsigned = g.type(v).dtype == DType::U8;
      return q;
    }
    // An op that moves 8-bit values keeps its input's quantization.
    if (n.inputs.empty()) return std::nullopt;
    v = n.inputs[0];
  }
  return std::nullopt;
}

QuantizationReport quantization_report(const Model& f32, const Model& int8, const std::vector<Batch>& batches) {
  const Graph& q = int8.graph();
  const Graph& f = f32.graph();
  // The 8-bit values that stand for an f32 value of the same name without the ".q".
  struct Pair {
    std::string node, f32_name;
    QuantParams params;
  };
  std::map<std::string, Pair> pairs;  // by int8 value name
  const std::vector<int> producers = q.producers();
  for (size_t i = 0; i < q.values.size(); ++i) {
    const Value& v = q.values[i];
    const DType t = v.type.dtype;
    if ((t != DType::U8 && t != DType::I8) || !v.name.ends_with(".q") || producers[i] < 0) continue;
    const std::string base = v.name.substr(0, v.name.size() - 2);
    if (f.find(base) == kNoValue) continue;
    const std::optional<QuantParams> params = quantization_of_value(q, ValueId(i));
    if (!params) continue;
    pairs[v.name] = Pair{q.nodes[size_t(producers[i])].name, base, *params};
  }
  std::map<std::string, Accumulated> layer_error;
  std::map<std::string, Accumulated> output_error;
  Session f_session(f32), q_session(int8);
  for (const Batch& batch : batches) {
    std::map<std::string, std::vector<float>> reference;  // the f32 values the pairs need
    std::set<std::string> wanted;
    for (const auto& [name, pair] : pairs) wanted.insert(pair.f32_name);
    const std::map<std::string, Tensor> f_out = f_session.run(batch, nullptr, [&](const Node& node, int index, const Tensor& t) {
      const std::string& name = f.value(node.outputs[size_t(index)]).name;
      if (wanted.count(name) && t.dtype() == DType::F32) reference[name].assign(t.data<float>(), t.data<float>() + t.numel());
    });
    for (const auto& [name, tensor] : batch)
      if (wanted.count(name) && tensor.dtype() == DType::F32)
        reference[name].assign(tensor.data<float>(), tensor.data<float>() + tensor.numel());
    const std::map<std::string, Tensor> q_out = q_session.run(batch, nullptr, [&](const Node& node, int index, const Tensor& t) {
      const std::string& name = q.value(node.outputs[size_t(index)]).name;
      const auto it = pairs.find(name);
      if (it == pairs.end()) return;
      const auto ref = reference.find(it->second.f32_name);
      if (ref == reference.end() || int64_t(ref->second.size()) != t.numel()) return;
      Accumulated& acc = layer_error[name];
      const QuantParams& p = it->second.params;
      for (int64_t e = 0; e < t.numel(); ++e) acc.add((double(t.get_int(e)) - p.zero_point) * p.scale, ref->second[size_t(e)]);
    });
    for (const auto& [name, t] : q_out) {
      const auto it = f_out.find(name);
      if (it == f_out.end() || it->second.numel() != t.numel()) continue;
      Accumulated& acc = output_error[name];
      for (int64_t e = 0; e < t.numel(); ++e) acc.add(t.get_double(e), it->second.get_double(e));
    }
  }
  QuantizationReport report;
  for (const auto& [name, acc] : layer_error) {
    const Pair& p = pairs.at(name);
    LayerError l{p.node, p.f32_name, acc.sqnr_db(), acc.rel_l2(), acc.cosine()};
    const int producer = producers[size_t(q.find(name))];
    if (producer >= 0 && is_integer_product(q.nodes[size_t(producer)].op)) {
      const auto input = layer_error.find(q.value(q.nodes[size_t(producer)].inputs[0]).name);
      if (input != layer_error.end()) l.sqnr_drop_db = input->second.sqnr_db() - l.sqnr_db;
    }
    report.layers.push_back(l);
  }
  std::sort(report.layers.begin(), report.layers.end(),
            [](const LayerError& a, const LayerError& b) { return a.sqnr_db < b.sqnr_db; });
  for (const auto& [name, acc] : output_error)
    report.outputs.push_back(OutputError{name, acc.rel_l2(), acc.max_abs, acc.count ? acc.abs_err / double(acc.count) : 0.0});
  // Recommend the Convs that lose most over their input (their own share of the error), when
  // that is more than 3 dB: at most five.
  std::vector<const LayerError*> convs;
  for (const LayerError& l : report.layers)
    if (!std::isnan(l.sqnr_drop_db) && l.sqnr_drop_db > 3.0) convs.push_back(&l);
  std::stable_sort(convs.begin(), convs.end(),
                   [](const LayerError* a, const LayerError* b) { return a->sqnr_drop_db > b->sqnr_drop_db; });
  for (size_t i = 0; i < convs.size() && i < 5; ++i) report.keep_float.push_back(convs[i]->node);
  return report;
}

}  // namespace nnc
