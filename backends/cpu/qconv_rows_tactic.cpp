// backends/cpu/qconv_rows_tactic.cpp — qconv.direct-rows: QLinearConv one output row at a time,
// for depthwise and grouped convs (MobileNet's 3x3 depthwise: one input channel per map), which
// the INT8 GEMM (group 1) does not run, and for convs with few output maps.
//
//   acc[m, oh, :] = bias[m] + Σ over (c in m's group, kh, kw) of  w[m, c, kh, kw] · x̃[c, ih, (:)·s + kw·d − pad]
//
// x̃ = x − x_zero is formed once per run as int16, so a padded tap (outside the image) simply
// contributes nothing, as in the reference; each term is then one vectorised int16 × int8 →
// int32 multiply-add over a row. The finished row is requantized by backends/cpu/requantize_rows.h
// (Requantizer::apply's operations, vectorised), so the bytes are the reference's.
#include <algorithm>

#include "backends/cpu/requantize_rows.h"
#include "backends/cpu/row_math.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

class QConvRowsKernel final : public NodeKernel {
 public:
  QConvRowsKernel(const Graph& graph, const Node& node)
      : w_dims_(constant_input(graph, node, 3)->dims()),
        group_(attr_int(node, "group")),
        rows_(RowRequantizer::of_qconv(graph, node)),
        x_zero_(int32_t(constant_input(graph, node, 2)->get_int(0))) {
    const Tensor& w = *constant_input(graph, node, 3);
    weight_.assign(w.data<int8_t>(), w.data<int8_t>() + w.numel());
    if (node.has_input(8)) {
      const Tensor& b = *constant_input(graph, node, 8);
      bias_.assign(b.data<int32_t>(), b.data<int32_t>() + b.numel());
    }
  }
  std::string_view tactic() const override { return "qconv.direct-rows"; }
  int64_t held_bytes() const override { return int64_t(weight_.size() + bias_.size() * sizeof(int32_t)); }

  void run(KernelContext& k) const override {
    const Tensor& x = k.in(0);
    const Dims& xd = x.dims();
    const int64_t maps = w_dims_[0], channels = w_dims_[1], kh_size = w_dims_[2], kw_size = w_dims_[3];
    const int64_t maps_per_group = maps / group_, all_channels = xd[1];
    const WindowGeometry g = window_geometry(k.node, {xd[2], xd[3]}, {kh_size, kw_size}, false);
    const int64_t height = xd[2], width = xd[3], out_h = g.output[0], out_w = g.output[1], sw = g.stride[1];
    // x − x_zero, once: padding then needs no special case (its centred value is 0).
    std::vector<int16_t> centred(static_cast<size_t>(x.numel()));
    if (x.dtype() == DType::U8)
      for (int64_t i = 0; i < x.numel(); ++i) centred[size_t(i)] = int16_t(int32_t(x.data<uint8_t>()[i]) - x_zero_);
    else
      for (int64_t i = 0; i < x.numel(); ++i) centred[size_t(i)] = int16_t(int32_t(x.data<int8_t>()[i]) - x_zero_);
    const uint8_t* residual = k.has_input(9) ? reinterpret_cast<const uint8_t*>(k.in(9).bytes()) : nullptr;
    uint8_t* out = reinterpret_cast<uint8_t*>(k.out(0).bytes());
    parallel_for(xd[0] * maps * out_h, [&](int, int64_t begin, int64_t end) {
      std::vector<int32_t> acc(static_cast<size_t>(out_w));
      for (int64_t row = begin; row < end; ++row) {
        const int64_t oh = row % out_h, m = row / out_h % maps, b = row / out_h / maps;
        const int64_t first_channel = m / maps_per_group * channels;  // m's group's first input channel
        std::fill(acc.begin(), acc.end(), bias_.empty() ? 0 : bias_[size_t(m)]);
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t kh = 0; kh < kh_size; ++kh) {
            const int64_t ih = oh * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
            if (ih < 0 || ih >= height) continue;
            const int16_t* in = centred.data() + ((b * all_channels + first_channel + c) * height + ih) * width;
            const int8_t* w = weight_.data() + ((m * channels + c) * kh_size + kh) * kw_size;
            for (int64_t kw = 0; kw < kw_size; ++kw) {
              // Output column ow reads input column ow·sw + offset; [lo, hi) stay inside the row.
              const int64_t offset = kw * g.dilation[1] - g.pad_begin[1];
              const auto [lo, hi] = columns_inside(offset, sw, width, out_w);
              if (sw == 1) multiply_add_i16(acc.data() + lo, in + lo + offset, w[kw], hi - lo);
              else multiply_add_i16_strided(acc.data() + lo, in + lo * sw + offset, sw, w[kw], hi - lo);
            }
          }
        rows_.run(nullptr, m, 1, acc.data(), out_w, residual ? residual + row * out_w : nullptr, out + row * out_w, out_w, out_w);
      }
    });
  }

 private:
  std::vector<int8_t> weight_;
  std::vector<int32_t> bias_;
  Dims w_dims_;
  int64_t group_;
  RowRequantizer rows_;
  int32_t x_zero_;
};

std::string qconv_rows_rejects(const Graph& graph, const Node& node) {
  if (std::string why = qconv_constants_rejects(graph, node); !why.empty()) return why;
  const Tensor& w = *constant_input(graph, node, 3);
  // |x̃·w| ≤ 255·128 < 2^15 per term: 2^15 terms and a bias below 2^30 stay inside int32.
  if (w.dims()[1] * w.dims()[2] * w.dims()[3] > (int64_t{1} << 15)) return "depth too large for int32 accumulation";
  if (node.has_input(8))
    for (int64_t m = 0; m < w.dims()[0]; ++m)
      if (std::abs(int64_t(constant_input(graph, node, 8)->data<int32_t>()[m])) >= (int64_t{1} << 30))
        return "bias too large for int32 accumulation";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_qconv_rows(const Graph& graph, const Node& node) {
  return std::make_shared<QConvRowsKernel>(graph, node);
}

}  // namespace

extern const Tactic kQConvDirectRows{"qconv.direct-rows", OpKind::QLinearConv, qconv_rows_rejects, prepare_qconv_rows};

}  // namespace nnc::cpu
