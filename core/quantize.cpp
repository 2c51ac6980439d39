// core/quantize.cpp — see quantize.h.
#include "core/quantize.h"

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

}  // namespace

std::shared_ptr<QuantizationTable> calibrate(const Model& f32, const std::vector<Batch>& batches,
                                             const QuantizeOptions& options) {
  if (batches.empty()) bad_input("calibration needs at least one input");
  const Graph& g = f32.graph();
  std::map<std::string, TensorObserver> observers;
  const CalibrationOptions& c = options.calibration;
  const bool histograms = c.method != CalibrationMethod::MinMax && c.method != CalibrationMethod::Ema;
  Session session(f32);
  for (int sweep = 0; sweep < (histograms ? 2 : 1); ++sweep) {
    auto watch = [&](const std::string& name, const Tensor& t) {
      if (t.dtype() != DType::F32) return;
      if (sweep == 0) observers[name].observe_range(t.data<float>(), t.numel(), c.ema_weight);
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
  table->keep_float = options.keep_float;
  table->how = std::string(calibration_method_name(c.method));
  if (c.method == CalibrationMethod::Percentile) table->how += fmt::format(":{}", c.percentile);
  if (c.symmetric) table->how += ",s8";
  if (c.power_of_two) table->how += ",pow2";
  table->how += fmt::format(",{}-inputs", batches.size());
  return table;
}

std::optional<QuantParams> quantization_of_value(const Graph& g, ValueId v) {
  const std::vector<int> producers = g.producers();
  for (int hops = 0; hops < 64 && v != kNoValue; ++hops) {
    const int p = producers[size_t(v)];
    if (p < 0) return std::nullopt;
    const Node& n = g.nodes[size_t(p)];
    int scale = -1, zero = -1;
    if (n.op == OpKind::QLinearConv) scale = 6, zero = 7;
    else if (n.op == OpKind::QuantizeLinear) scale = 1, zero = 2;
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
    report.layers.push_back(LayerError{p.node, p.f32_name, acc.sqnr_db(), acc.rel_l2(), acc.cosine()});
  }
  std::sort(report.layers.begin(), report.layers.end(),
            [](const LayerError& a, const LayerError& b) { return a.sqnr_db < b.sqnr_db; });
  for (const auto& [name, acc] : output_error)
    report.outputs.push_back(OutputError{name, acc.rel_l2(), acc.max_abs, acc.count ? acc.abs_err / double(acc.count) : 0.0});
  // Recommend the Convs whose outputs lose the most, well below the model's typical layer.
  std::vector<double> sqnr;
  for (const LayerError& l : report.layers) sqnr.push_back(l.sqnr_db);
  if (!sqnr.empty()) {
    std::vector<double> sorted = sqnr;
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(sorted.size() / 2), sorted.end());
    const double median = sorted[sorted.size() / 2];
    for (const LayerError& l : report.layers) {
      if (report.keep_float.size() >= 5 || l.sqnr_db >= std::min(20.0, median - 6.0)) break;
      const ValueId v = q.find(l.value + ".q");
      const std::vector<int> prod = q.producers();
      if (v != kNoValue && prod[size_t(v)] >= 0 && q.nodes[size_t(prod[size_t(v)])].op == OpKind::QLinearConv)
        report.keep_float.push_back(l.node);
    }
  }
  return report;
}

}  // namespace nnc
