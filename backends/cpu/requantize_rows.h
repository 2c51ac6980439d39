// backends/cpu/requantize_rows.h — int32 accumulators to bytes, row by row, for the INT8 conv
// tactics: exactly Requantizer::apply (ops/requantize.h) element by element, the operations in
// the same order so the bytes are the reference kernel's, 16 outputs at a time with AVX-512
// where the requantization is in f32 (the fixed-point one runs per element).
#pragma once

#include <cstdint>
#include <string>

#include "core/graph.h"
#include "ops/requantize.h"

namespace nnc::cpu {

// What both INT8 conv tactics need of a 2-D QLinearConv beyond their own layout: constant i8
// symmetric weights, per-tensor constant x/y scales and zero points, weight scales per tensor or
// per output channel, a constant bias per output channel, and a residual quantized per tensor
// and not broadcast. Returns why not, or "".
std::string qconv_constants_rejects(const Graph& graph, const Node& node);

class RowRequantizer {
 public:
  RowRequantizer() = default;
  RowRequantizer(const Requantizer& r, bool out_signed, bool residual_signed);
  // For a QLinearConv that qconv_constants_rejects accepts: its scales, zero points, epilogue
  // and output/residual types.
  static RowRequantizer of_qconv(const Graph& graph, const Node& node);

  // Row i (0 ≤ i < rows) is output channel m0 + i: out[i·stride + j] = apply(acc[i·acc_stride + j]
  // + bias[m0 + i], m0 + i, residual[i·stride + j]) for j < count. `bias` may be null (none);
  // `residual` is null without one.
  void run(const int32_t* bias, int64_t m0, int64_t rows, const int32_t* acc, int64_t acc_stride, const uint8_t* residual,
           uint8_t* out, int64_t stride, int64_t count) const;

 private:
  using RowsFn = void (*)(const Requantizer&, const int32_t*, int64_t, int64_t, const int32_t*, int64_t, const uint8_t*,
                          uint8_t*, int64_t, int64_t);
  Requantizer r_;
  bool out_signed_ = false, residual_signed_ = false;
  RowsFn vectorised_ = nullptr;
};

}  // namespace nnc::cpu
