// passes/calibration.cpp — see calibration.h.
#include "passes/calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nnc {
namespace {

struct NamedMethod {
  std::string_view name;
  CalibrationMethod method;
};
constexpr NamedMethod kMethods[] = {{"minmax", CalibrationMethod::MinMax},
                                    {"ema", CalibrationMethod::Ema},
                                    {"percentile", CalibrationMethod::Percentile},
                                    {"mse", CalibrationMethod::Mse},
                                    {"entropy", CalibrationMethod::Entropy}};

// A histogram of equal bins over [low, high], which always contains 0.
struct Histogram {
  const std::vector<double>& counts;
  double low, high;
  double width() const { return (high - low) / double(counts.size()); }
  double center(size_t i) const { return low + (double(i) + 0.5) * width(); }
  double total() const {
    double t = 0;
    for (double c : counts) t += c;
    return t;
  }
};

// The same values as |x| over [0, max(|low|, |high|)]: what a symmetric scheme clips.
std::vector<double> folded(const Histogram& h) {
  const size_t bins = h.counts.size();
  const double top = std::max(-h.low, h.high);
  std::vector<double> out(bins, 0.0);
  if (top <= 0) return out;
  for (size_t i = 0; i < bins; ++i) {
    const size_t j = std::min(bins - 1, size_t(std::fabs(h.center(i)) / top * double(bins)));
    out[j] += h.counts[i];
  }
  return out;
}

// The value below which `fraction` of a histogram's mass lies (linear within a bin).
double quantile(const Histogram& h, double fraction) {
  const double target = fraction * h.total();
  double seen = 0;
  for (size_t i = 0; i < h.counts.size(); ++i) {
    if (seen + h.counts[i] >= target && h.counts[i] > 0)
      return h.low + (double(i) + (target - seen) / h.counts[i]) * h.width();
    seen += h.counts[i];
  }
  return h.high;
}

// KL(P || Q) for the window [b0, b1) of `counts` quantized to `levels` levels, TensorRT's way:
// P is the window with everything outside folded into its edge bins; Q spreads each level's
// mass (of the window alone) evenly over the level's non-empty bins. The bin holding 0 keeps its
// own mass in Q: zero is exactly representable, and after a ReLU that bin holds half the values;
// spread over its level, it would make every wide level look costly and the search clip hard.
double window_divergence(const std::vector<double>& counts, size_t b0, size_t b1, int levels, size_t zero_bin) {
  const size_t n = b1 - b0;
  std::vector<double> p(counts.begin() + std::ptrdiff_t(b0), counts.begin() + std::ptrdiff_t(b1));
  std::vector<double> q(n, 0.0);
  const size_t zero = zero_bin >= b0 && zero_bin < b1 ? zero_bin - b0 : n;  // n: not in the window
  for (size_t l = 0; l < size_t(levels); ++l) {
    const size_t from = l * n / size_t(levels), to = (l + 1) * n / size_t(levels);
    double mass = 0;
    size_t nonzero = 0;
    for (size_t j = from; j < to; ++j)
      if (j != zero) mass += p[j], nonzero += p[j] > 0;
    for (size_t j = from; j < to; ++j) q[j] = j == zero ? p[j] : p[j] > 0 ? mass / double(nonzero) : 0.0;
  }
  for (size_t j = 0; j < b0; ++j) p.front() += counts[j];
  for (size_t j = b1; j < counts.size(); ++j) p.back() += counts[j];
  double p_total = 0, q_total = 0;
  for (size_t j = 0; j < n; ++j) p_total += p[j], q_total += q[j];
  if (p_total <= 0 || q_total <= 0) return std::numeric_limits<double>::infinity();
  constexpr double kFloor = 1e-9;  // Q is empty where the clipped tail lands: keep KL finite
  double kl = 0;
  for (size_t j = 0; j < n; ++j) {
    if (p[j] <= 0) continue;
    const double pj = p[j] / p_total, qj = std::max(q[j] / q_total, kFloor);
    kl += pj * std::log(pj / qj);
  }
  return kl;
}

Range entropy_range(const Histogram& h, const CalibrationOptions& o) {
  const size_t bins = h.counts.size();
  const int levels = o.symmetric ? 128 : 256;
  if (bins <= size_t(levels)) return {float(h.low), float(h.high)};
  constexpr size_t kCandidates = 160;
  double best = std::numeric_limits<double>::infinity();
  Range chosen{float(h.low), float(h.high)};
  if (o.symmetric) {
    const std::vector<double> magnitudes = folded(h);
    const double top = std::max(-h.low, h.high);
    const size_t step = std::max<size_t>(1, (bins - size_t(levels)) / kCandidates);
    for (size_t i = size_t(levels); i <= bins; i += step) {
      const double kl = window_divergence(magnitudes, 0, i, levels, 0);
      if (kl < best) best = kl, chosen = {float(-top * double(i) / double(bins)), float(top * double(i) / double(bins))};
    }
    return chosen;
  }
  // Asymmetric: windows shrink towards the zero bin, keeping its position in the range.
  const double zero = -h.low / h.width();
  for (size_t c = 0; c <= kCandidates; ++c) {
    const double alpha = double(levels) / double(bins) + (1.0 - double(levels) / double(bins)) * double(c) / double(kCandidates);
    const size_t b0 = size_t(std::floor(zero - zero * alpha));
    const size_t b1 = std::min(bins, size_t(std::ceil(zero + (double(bins) - zero) * alpha)));
    if (b1 <= b0 || b1 - b0 < size_t(levels)) continue;
    const double kl = window_divergence(h.counts, b0, b1, levels, size_t(std::min(zero, double(bins - 1))));
    if (kl < best) best = kl, chosen = {float(h.low + double(b0) * h.width()), float(h.low + double(b1) * h.width())};
  }
  return chosen;
}

Range mse_range(const Histogram& h, const CalibrationOptions& o) {
  constexpr int kCandidates = 200;
  const double top = std::max(-h.low, h.high);
  double best = std::numeric_limits<double>::infinity();
  Range chosen{float(h.low), float(h.high)};
  for (int c = kCandidates; c >= 1; --c) {
    const double alpha = double(c) / kCandidates;
    const double lo = o.symmetric ? -top * alpha : h.low * alpha, hi = o.symmetric ? top * alpha : h.high * alpha;
    const double err = histogram_quantization_mse(h.counts, h.low, h.high, lo, hi, o.symmetric ? 254 : 255);
    if (err < best) best = err, chosen = {float(lo), float(hi)};
  }
  return chosen;
}

}  // namespace

std::optional<CalibrationMethod> parse_calibration_method(std::string_view name) {
  for (const NamedMethod& m : kMethods)
    if (m.name == name) return m.method;
  return std::nullopt;
}

std::string_view calibration_method_name(CalibrationMethod method) {
  for (const NamedMethod& m : kMethods)
    if (m.method == method) return m.name;
  return "?";
}

double histogram_quantization_mse(const std::vector<double>& histogram, double low, double high, double clip_low,
                                  double clip_high, int levels) {
  const Histogram h{histogram, low, high};
  const double step = (clip_high - clip_low) / levels;
  double err = 0;
  for (size_t i = 0; i < histogram.size(); ++i) {
    if (histogram[i] == 0) continue;
    const double x = h.center(i);
    const double e = x < clip_low ? (clip_low - x) * (clip_low - x)
                     : x > clip_high ? (x - clip_high) * (x - clip_high)
                                     : step * step / 12.0;
    err += histogram[i] * e;
  }
  return err;
}

QuantParams quant_params(Range range, const CalibrationOptions& options) {
  // The range always holds 0, so that zero padding and ReLU's zeros are exact.
  double low = std::min(0.0, double(range.low)), high = std::max(0.0, double(range.high));
  if (!std::isfinite(low) || !std::isfinite(high)) low = 0, high = 0;
  QuantParams p;
  p.is_unsigned = !options.symmetric;
  double scale = options.symmetric ? std::max(-low, high) / 127.0 : (high - low) / 255.0;
  if (scale <= 0) scale = 1.0;  // a constant-zero tensor: any scale represents it
  if (options.power_of_two) scale = std::exp2(std::ceil(std::log2(scale)));
  p.scale = float(scale);
  p.zero_point = options.symmetric ? 0 : int32_t(std::clamp(std::nearbyint(-low / double(p.scale)), 0.0, 255.0));
  return p;
}

void TensorObserver::observe_range(const float* data, int64_t count, double ema_weight) {
  float lo = std::numeric_limits<float>::infinity(), hi = -lo;
  for (int64_t i = 0; i < count; ++i)
    if (std::isfinite(data[i])) lo = std::min(lo, data[i]), hi = std::max(hi, data[i]);
  if (lo > hi) return;  // empty or all non-finite: nothing to learn
  if (batches_ == 0) {
    min_ = ema_min_ = lo;
    max_ = ema_max_ = hi;
  } else {
    min_ = std::min(min_, lo), max_ = std::max(max_, hi);
    ema_min_ = float((1 - ema_weight) * ema_min_ + ema_weight * lo);
    ema_max_ = float((1 - ema_weight) * ema_max_ + ema_weight * hi);
  }
  ++batches_;
}

void TensorObserver::observe_histogram(const float* data, int64_t count, int bins) {
  if (histogram_.empty()) histogram_.assign(size_t(std::max(bins, 1)), 0.0);
  const double low = std::min(0.0f, min_), high = std::max(0.0f, max_);
  if (high <= low) return;
  const double per_unit = double(histogram_.size()) / (high - low);
  const int64_t last = int64_t(histogram_.size()) - 1;
  for (int64_t i = 0; i < count; ++i) {
    if (!std::isfinite(data[i])) continue;
    const int64_t b = std::clamp<int64_t>(int64_t((double(data[i]) - low) * per_unit), 0, last);
    histogram_[size_t(b)] += 1;
  }
}

Range TensorObserver::choose(const CalibrationOptions& o) const {
  const Range extremes{std::min(0.0f, min_), std::max(0.0f, max_)};
  if (batches_ == 0) return {};
  if (o.method == CalibrationMethod::MinMax) return extremes;
  if (o.method == CalibrationMethod::Ema) return {std::min(0.0f, ema_min_), std::max(0.0f, ema_max_)};
  if (histogram_.empty() || extremes.high <= extremes.low) return extremes;
  const Histogram h{histogram_, extremes.low, extremes.high};
  switch (o.method) {
    case CalibrationMethod::Percentile: {
      const double p = std::clamp(o.percentile, 50.0, 100.0) / 100.0;
      if (o.symmetric) {
        const std::vector<double> magnitudes = folded(h);
        const double top = std::max(-h.low, h.high);
        const double t = quantile(Histogram{magnitudes, 0.0, top}, p);
        return {float(-t), float(t)};
      }
      return {float(std::min(0.0, quantile(h, 1 - p))), float(std::max(0.0, quantile(h, p)))};
    }
    case CalibrationMethod::Mse:
      return mse_range(h, o);
    case CalibrationMethod::Entropy:
      return entropy_range(h, o);
    default:
      return extremes;
  }
}

}  // namespace nnc
