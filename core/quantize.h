// core/quantize.h — post-training INT8 quantization through the embedding API.
//
//   nnc::Model f32 = nnc::load_model("u2netp.onnx");
//   auto table = nnc::calibrate(f32, batches, {});            // ranges from calibration inputs
//   nnc::LoadOptions o;  o.passes.quantization = table;
//   nnc::Model int8 = nnc::load_model("u2netp.onnx", o);      // insert-quantizers + folding
//   nnc::QuantizationReport r = nnc::quantization_report(f32, int8, batches);
//
// Calibration runs the f32 model (as optimised, so the values are those the quantized Convs
// read and write) and watches every f32 tensor (passes/calibration.h). The report runs both
// models on the same inputs and measures, per quantized tensor, how far its dequantized values
// are from the f32 ones.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/api.h"
#include "passes/calibration.h"
#include "passes/insert_quantizers.h"

namespace nnc {

using Batch = std::map<std::string, Tensor>;  // one set of named model inputs

struct QuantizeOptions {
  CalibrationOptions calibration;
  bool fixed_point = false;            // integer-only requantization
  bool bias_correction = false;        // measure per-channel means, correct the Convs' biases
  std::set<std::string> keep_float;    // Conv/MatMul/Gemm node names to leave in f32
  QuantizationTable::LayerNorm layernorm = QuantizationTable::LayerNorm::Float;
  QuantizationTable::Softmax softmax = QuantizationTable::Softmax::Float;
  // Progress: phase ("ranges", "histograms"), batches done, batches in all.
  std::function<void(std::string_view, size_t, size_t)> progress;
};

// Chooses the quantization of every f32 tensor of `f32`'s graph from its values on `batches`.
// Throws BadInput when there are no batches.
std::shared_ptr<QuantizationTable> calibrate(const Model& f32, const std::vector<Batch>& batches,
                                             const QuantizeOptions& options);

struct LayerError {
  std::string node;    // the node writing the quantized tensor (the Conv, MaxPool, ...)
  std::string value;   // the f32 tensor it stands for
  double sqnr_db = 0;  // 10·log10(Σ f32² / Σ (dequantized − f32)²)
  double rel_l2 = 0;
  double cosine = 1;
  // For an integer Conv or MatMul: how many dB it loses over its (quantized) input's SQNR, its own share of
  // the error; NaN when the input is not measured. Mixed precision moves the largest back to f32.
  double sqnr_drop_db = std::numeric_limits<double>::quiet_NaN();
};

struct OutputError {
  std::string name;
  double rel_l2 = 0, max_abs = 0, mean_abs = 0;
};

struct QuantizationReport {
  std::vector<LayerError> layers;    // worst (lowest SQNR) first
  std::vector<OutputError> outputs;  // the model's outputs, int8 against f32
  std::vector<std::string> keep_float;  // Convs the report recommends leaving in f32
};

QuantizationReport quantization_report(const Model& f32, const Model& int8, const std::vector<Batch>& batches);

// Mixed precision: compiles `path` with `table`, and while some output of the INT8 model is
// further than `budget` (relative L2) from the f32 model's on `batches`, moves a tenth of the
// quantized Convs and MatMuls back to f32 (those that lose most dB of SQNR over their input's first) and
// compiles again; with every one in f32 the budget is met, so it ends.
// Returns the last model; `table->keep_float` ends up naming the ops kept in f32. `log` hears
// one line per round.
struct BudgetedModel {
  Model model;
  double worst_rel_l2 = 0;  // of the returned model's outputs
  int rounds = 0;
};
BudgetedModel quantize_within_budget(const std::filesystem::path& path, LoadOptions options, const Model& f32,
                                     std::shared_ptr<QuantizationTable> table, const std::vector<Batch>& batches,
                                     double budget, const std::function<void(const std::string&)>& log = nullptr);

// The quantization of an 8-bit value of a graph, read from the node that writes it (a
// QLinearConv's y_scale/y_zero_point, a QuantizeLinear's, or through ops that move values).
std::optional<QuantParams> quantization_of_value(const Graph& g, ValueId v);

}  // namespace nnc
