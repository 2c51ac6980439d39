// backends/cpu/conv_direct_tactic.cpp — conv.direct-rows: a convolution computed one output row
// at a time, for convs with few output channels (a U-Net's 64 -> 1 side outputs), where a GEMM
// would pack the whole column matrix to produce a single row of C, and for grouped and depthwise
// convs (MobileNet's 3x3 depthwise: one input channel per map), which are no GEMM at all.
//
//   y[m, oh, :] = bias[m] + sum over (c in m's group, kh, kw) of  w[m, c, kh, kw] · x[c, ih, (:)·s + kw·d - pad]
//
// Each term is one vectorised multiply-add over a row that stays in L1 (a strided gather when
// the horizontal stride s is not 1); the epilogue runs on the finished row.
#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/row_math.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/epilogue.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

__attribute__((target_clones("avx512f", "avx2", "default")))
void multiply_add(float* __restrict out, const float* __restrict in, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += w * in[i];
}
__attribute__((target_clones("avx512f", "avx2", "default")))
void multiply_add_strided(float* __restrict out, const float* __restrict in, int64_t stride, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += w * in[i * stride];
}

class DirectRowsKernel final : public NodeKernel {
 public:
  DirectRowsKernel(const Node& node, const Tensor& weight, const Tensor* bias)
      : weight_(weight.data<float>(), weight.data<float>() + weight.numel()),
        w_dims_(weight.dims()),
        group_(attr_int(node, "group")),
        activation_(Activation::of(node)) {
    if (bias) bias_.assign(bias->data<float>(), bias->data<float>() + bias->numel());
  }
  std::string_view tactic() const override { return "conv.direct-rows"; }
  int64_t held_bytes() const override { return int64_t((weight_.size() + bias_.size()) * sizeof(float)); }

  void run(KernelContext& k) const override {
    const Dims& xd = k.in(0).dims();
    const int64_t maps = w_dims_[0], channels = w_dims_[1], kh_size = w_dims_[2], kw_size = w_dims_[3];
    const int64_t maps_per_group = maps / group_, all_channels = xd[1];
    const WindowGeometry g = window_geometry(k.node, {xd[2], xd[3]}, {kh_size, kw_size}, false);
    const int64_t height = xd[2], width = xd[3], out_h = g.output[0], out_w = g.output[1], sw = g.stride[1];
    const float* x = k.in(0).data<float>();
    const float* residual = k.has_input(3) ? k.in(3).data<float>() : nullptr;
    const bool residual_last = residual_after_activation(k.node);
    float* y = k.out(0).data<float>();
    parallel_for(xd[0] * maps * out_h, [&](int, int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const int64_t oh = row % out_h, m = row / out_h % maps, b = row / out_h / maps;
        const int64_t first_channel = m / maps_per_group * channels;  // m's group's first input channel
        float* out = y + row * out_w;
        std::fill(out, out + out_w, bias_.empty() ? 0.0f : bias_[size_t(m)]);
        for (int64_t c = 0; c < channels; ++c)
          for (int64_t kh = 0; kh < kh_size; ++kh) {
            const int64_t ih = oh * g.stride[0] - g.pad_begin[0] + kh * g.dilation[0];
            if (ih < 0 || ih >= height) continue;
            const float* in = x + ((b * all_channels + first_channel + c) * height + ih) * width;
            const float* w = weight_.data() + ((m * channels + c) * kh_size + kh) * kw_size;
            for (int64_t kw = 0; kw < kw_size; ++kw) {
              // Output column ow reads input column ow·sw + offset; [lo, hi) stay inside the row.
              const int64_t offset = kw * g.dilation[1] - g.pad_begin[1];
              const auto [lo, hi] = columns_inside(offset, sw, width, out_w);
              if (sw == 1) {
                multiply_add(out + lo, in + lo + offset, w[kw], hi - lo);
              } else {
                multiply_add_strided(out + lo, in + lo * sw + offset, sw, w[kw], hi - lo);
              }
            }
          }
        add_residual_and_activate(out, residual ? residual + row * out_w : nullptr, out_w, activation_,
                                  residual_last);
      }
    });
  }

 private:
  std::vector<float> weight_, bias_;
  Dims w_dims_;
  int64_t group_;
  Activation activation_;
};

std::string direct_rows_rejects(const Graph& graph, const Node& node) { return conv2d_rejects(graph, node); }

std::shared_ptr<const NodeKernel> prepare_direct_rows(const Graph& graph, const Node& node) {
  return std::make_shared<DirectRowsKernel>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2));
}

}  // namespace

extern const Tactic kConvDirectRows{"conv.direct-rows", OpKind::Conv, direct_rows_rejects, prepare_direct_rows};

}  // namespace nnc::cpu
