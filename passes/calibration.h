// passes/calibration.h — choosing the range an activation tensor is quantized to, from the
// values it took on calibration inputs (post-training quantization; see Krishnamoorthi,
// "Quantizing deep convolutional networks for efficient inference", and TensorRT's calibrators).
//
// A TensorObserver watches one tensor over the calibration batches in two sweeps: the first
// records min/max (and their moving average), the second a histogram over [min, max]. The
// methods then pick a clipping range [low, high]:
//   minmax      the extremes seen: nothing is clipped, the step is widest.
//   ema         min and max of each batch, averaged with weight `ema_weight` per new batch.
//   percentile  the `percentile` (default 99.99) of the values (and 100 − p at the low end).
//   mse         the range minimising the expected squared error: rounding noise (step²/12) of
//               the values inside plus the clipping error of those outside, searched over
//               ranges shrunk from min/max towards zero.
//   entropy     TensorRT's: the range whose quantized histogram diverges least (KL) from the
//               clipped reference histogram.
// quant_params() turns a range into a scale and zero point: u8 asymmetric (default) or s8
// symmetric, optionally with a power-of-two scale.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace nnc {

enum class CalibrationMethod { MinMax, Ema, Percentile, Mse, Entropy };
std::optional<CalibrationMethod> parse_calibration_method(std::string_view name);
std::string_view calibration_method_name(CalibrationMethod method);

struct CalibrationOptions {
  CalibrationMethod method = CalibrationMethod::Percentile;
  double percentile = 99.99;
  double ema_weight = 0.1;     // weight of each new batch in the moving average
  bool symmetric = false;      // s8 with zero point 0 instead of u8 with a zero point
  bool power_of_two = false;   // scales rounded up to a power of two
  int bins = 2048;
};

struct Range {
  float low = 0, high = 0;
};

// The affine mapping real = (q − zero_point) · scale of one tensor.
struct QuantParams {
  float scale = 1;
  int32_t zero_point = 0;
  bool is_unsigned = true;  // u8; else i8
  bool operator==(const QuantParams&) const = default;
};

QuantParams quant_params(Range range, const CalibrationOptions& options);

class TensorObserver {
 public:
  // Sweep 1: the extremes of one batch.
  void observe_range(const float* data, int64_t count, double ema_weight);
  // Sweep 2 (after every batch of sweep 1): the histogram over [min, max] of sweep 1.
  void observe_histogram(const float* data, int64_t count, int bins);
  bool seen() const { return batches_ > 0; }
  Range min_max() const { return {min_, max_}; }
  // The range `options.method` picks (histogram methods need sweep 2).
  Range choose(const CalibrationOptions& options) const;

 private:
  float min_ = 0, max_ = 0, ema_min_ = 0, ema_max_ = 0;
  int64_t batches_ = 0;
  std::vector<double> histogram_;  // counts of [min_, max_] in equal bins
};

// Exposed for the tests: the expected squared error of quantizing a histogram (bins of equal
// width over [low, high]) to [clip_low, clip_high] with `levels` steps, and the KL divergence
// of the entropy method for one window of bins.
double histogram_quantization_mse(const std::vector<double>& histogram, double low, double high, double clip_low,
                                  double clip_high, int levels);

}  // namespace nnc
