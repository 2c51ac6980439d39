// passes/insert_quantizers.h — see insert_quantizers.cpp.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "passes/calibration.h"
#include "passes/pass_report.h"

namespace nnc {

// What calibration decided: the quantization of each activation value (by name), and what the
// policy leaves in f32.
struct QuantizationTable {
  std::map<std::string, QuantParams> activations;
  std::set<std::string> keep_float;  // Conv/MatMul/Gemm node names kept in f32 (--accuracy-budget, --keep-float)
  bool fixed_point = false;          // integer-only requantization (requantize="fixed")
  std::string how;                   // how the ranges were chosen, one line for the plan's META
  std::string calibration_sha256;    // of the calibration inputs (names, types, bytes), for the META
  // Bias correction (nnc quantize --bias-correction): per 4-D tensor, its mean per channel over
  // the calibration inputs; each quantized Conv's bias then absorbs the mean shift its weights'
  // rounding causes, −(W_q − W) · E[x] (Nagel et al. 2019, with E[x] measured).
  bool bias_correction = false;
  std::map<std::string, std::vector<double>> channel_means;
  // Transformers (FQ-ViT, Lin et al. 2022). Every MatMul with calibrated input and output is
  // quantized (weights s8 per column). LayerNorm and Softmax stay f32 unless asked:
  //   layernorm  Int8: input one scale per tensor (the naive scheme);
  //              PowerOfTwoFactor: each channel's scale the tensor's smallest times 2^α_c, α_c in
  //              0..3 (PTF), from the per-channel ranges of `channel_ranges`.
  //   softmax    Int8: output uniform bytes; Log2: FQ-ViT's 4-bit log2 codes (log-int-softmax).
  enum class LayerNorm { Float, Int8, PowerOfTwoFactor } layernorm = LayerNorm::Float;
  enum class Softmax { Float, Int8, Log2 } softmax = Softmax::Float;
  struct ChannelRanges {
    std::vector<float> low, high;  // along the last axis
  };
  std::map<std::string, ChannelRanges> channel_ranges;  // of every LayerNormalization's input
};

// The modes by their command-line names: f32, int8, ptf (LayerNorm); f32, int8, log2 (Softmax).
std::string_view layernorm_mode_name(QuantizationTable::LayerNorm mode);
std::optional<QuantizationTable::LayerNorm> parse_layernorm_mode(std::string_view name);
std::string_view softmax_mode_name(QuantizationTable::Softmax mode);
std::optional<QuantizationTable::Softmax> parse_softmax_mode(std::string_view name);

PassReport insert_quantizers(Graph& g, const QuantizationTable& table);

// Symmetric int8 per output channel (axis 0): scale[m] = max|w[m, ...]| / 127.
struct QuantizedWeight {
  Tensor values;  // i8, the weight's shape
  Tensor scales;  // f32 [M]
};
QuantizedWeight quantize_weight_per_channel(const Tensor& weight);
// Symmetric int8 per column of a [K, N] matrix (a MatMul's constant B): scale[n] = max|B[:, n]| / 127.
QuantizedWeight quantize_weight_per_column(const Tensor& matrix);

}  // namespace nnc
