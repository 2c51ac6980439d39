// backends/cpu/deform_conv_tactic.cpp — deform-conv.im2col-gemm: DeformConv on f32 as a
// deformable im2col feeding the packed GEMM.
//
// The image is first turned channels-last (HWC), so that a bilinear tap reads a contiguous run
// of channels: for each output position and kernel tap the four taps' pixels are four vector
// rows, and the column entries of every channel of an offset group come from four
// multiply-adds per 16 channels, with no gathers. The columns are laid out [position][tap][channel]
// per conv group (the weights are permuted to [map][tap][channel] once, at compile time, to
// match) and go to the same packed GEMM as Conv, bias in the epilogue. Blocks of positions keep
// the column buffer within a few MiB whatever the image size.
#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/deform_conv.h"

namespace nnc::cpu {
namespace {

constexpr int64_t kPositions = 256;  // output positions per column block

// dst[c] = scale · Σ_t weight[t] · row_t[c] over the taps with a non-zero weight (a tap outside
// the image has weight 0 and is not read, as the reference kernel skips it).
__attribute__((target_clones("avx512f", "avx2", "default"))) void blend_rows(float* __restrict dst,
                                                                               const float* const rows[4],
                                                                               const float weight[4], float scale,
                                                                               int64_t count) {
  float w[4];
  for (int t = 0; t < 4; ++t) w[t] = weight[t] * scale;
  for (int64_t c = 0; c < count; ++c) dst[c] = 0;
  for (int t = 0; t < 4; ++t) {
    if (weight[t] == 0) continue;
    const float* __restrict row = rows[t];
    const float wt = w[t];
    for (int64_t c = 0; c < count; ++c) dst[c] += wt * row[c];
  }
}

class DeformConvKernel final : public NodeKernel {
 public:
  DeformConvKernel(const Graph& g, const Node& node) {
    const Tensor& weight = *constant_input(g, node, 1);
    const Dims& w = weight.dims();
    group_ = attr_int(node, "group");
    maps_per_group_ = w[0] / group_;
    channels_per_group_ = w[1];
    taps_ = w[2] * w[3];
    depth_ = channels_per_group_ * taps_;
    kernel_ = &micro_kernel_for_rows(maps_per_group_);
    // [map][channel][tap] -> [map][tap][channel], the order the columns are built in.
    std::vector<float> permuted(size_t(w[0] * depth_));
    const float* src = weight.data<float>();
    for (int64_t m = 0; m < w[0]; ++m)
      for (int64_t c = 0; c < channels_per_group_; ++c)
        for (int64_t t = 0; t < taps_; ++t)
          permuted[size_t(m * depth_ + t * channels_per_group_ + c)] = src[(m * channels_per_group_ + c) * taps_ + t];
    for (int64_t grp = 0; grp < group_; ++grp) {
      const StridedSource rows(permuted.data() + grp * maps_per_group_ * depth_, depth_, 1);
      packed_.push_back(std::make_unique<PackedPanels>(rows, maps_per_group_, depth_, kernel_->mr));
    }
    if (const Tensor* bias = constant_input(g, node, 3)) bias_.assign(bias->data<float>(), bias->data<float>() + bias->numel());
  }

  std::string_view tactic() const override { return "deform-conv.im2col-gemm"; }
  int64_t held_bytes() const override {
    int64_t bytes = 0;
    for (const auto& p : packed_) bytes += p->bytes();
    return bytes;
  }

  void run(KernelContext& k) const override {
    const DeformConvGeometry g = deform_conv_geometry(k.node, k.in(0).dims(), k.in(1).dims());
    const int64_t positions = g.out_h * g.out_w, plane = g.height * g.width;
    const int64_t block = std::min(kPositions, positions);
    const int64_t row_length = g.channels * taps_;  // one position's columns, all conv groups
    const int64_t per_offset_group = g.channels / g.offset_group;
    std::vector<float> image_hwc(size_t(g.channels * plane));
    std::vector<float> columns(size_t(block * row_length));
    const float* mask = k.has_input(4) ? k.in(4).data<float>() : nullptr;
    for (int64_t b = 0; b < g.batch; ++b) {
      const float* image = k.in(0).data<float>() + b * g.channels * plane;
      const float* offset = k.in(2).data<float>() + b * g.offset_group * taps_ * 2 * positions;
      const float* batch_mask = mask ? mask + b * g.offset_group * taps_ * positions : nullptr;
      float* out = k.out(0).data<float>() + b * g.maps * positions;
      parallel_for(g.height, [&](int, int64_t begin, int64_t end) {  // CHW -> HWC
        for (int64_t y = begin; y < end; ++y)
          for (int64_t x = 0; x < g.width; ++x) {
            float* dst = image_hwc.data() + (y * g.width + x) * g.channels;
            for (int64_t c = 0; c < g.channels; ++c) dst[c] = image[c * plane + y * g.width + x];
          }
      });
      for (int64_t p0 = 0; p0 < positions; p0 += block) {
        const int64_t count = std::min(block, positions - p0);
        parallel_for(count, [&](int, int64_t begin, int64_t end) {
          for (int64_t p = begin; p < end; ++p) {
            const int64_t position = p0 + p, i = position / g.out_w, j = position % g.out_w;
            float* row = columns.data() + p * row_length;
            for (int64_t og = 0; og < g.offset_group; ++og)
              for (int64_t tap = 0; tap < taps_; ++tap) {
                const int64_t r = og * taps_ + tap, kh = tap / g.kernel_w, kw = tap % g.kernel_w;
                const double dy = offset[(2 * r) * positions + position], dx = offset[(2 * r + 1) * positions + position];
                const float m = batch_mask ? batch_mask[r * positions + position] : 1.0f;
                int64_t px[4];
                double wt[4];
                deform_conv_taps(double(i * g.stride_h - g.pad_top + kh * g.dilation_h) + dy,
                                 double(j * g.stride_w - g.pad_left + kw * g.dilation_w) + dx, g.height, g.width, px, wt);
                const float weights[4] = {float(wt[0]), float(wt[1]), float(wt[2]), float(wt[3])};
                // This offset group's channels, split at conv-group boundaries: group grp's
                // columns are [tap][its channels] at grp · depth.
                for (int64_t c0 = og * per_offset_group; c0 < (og + 1) * per_offset_group;) {
                  const int64_t grp = c0 / channels_per_group_, local = c0 - grp * channels_per_group_;
                  const int64_t n = std::min((og + 1) * per_offset_group, (grp + 1) * channels_per_group_) - c0;
                  const float* rows[4];
                  for (int t = 0; t < 4; ++t) rows[t] = image_hwc.data() + px[t] * g.channels + c0;
                  blend_rows(row + grp * depth_ + tap * channels_per_group_ + local, rows, weights, m, n);
                  c0 += n;
                }
              }
          }
        });
        for (int64_t grp = 0; grp < group_; ++grp) {
          GemmEpilogue epilogue;
          epilogue.row_bias = bias_.empty() ? nullptr : bias_.data() + grp * maps_per_group_;
          gemm(maps_per_group_, count, depth_, *packed_[size_t(grp)],
               StridedSource(columns.data() + grp * depth_, row_length, 1), out + grp * maps_per_group_ * positions + p0,
               positions, epilogue, true, kernel_);
        }
      }
    }
  }

 private:
  const MicroKernel* kernel_ = nullptr;
  int64_t group_ = 1, maps_per_group_ = 0, channels_per_group_ = 0, taps_ = 0, depth_ = 0;
  std::vector<std::unique_ptr<PackedPanels>> packed_;
  std::vector<float> bias_;
};

std::string deform_conv_rejects(const Graph& g, const Node& node) {
  for (int i : {0, 2, 4})
    if (node.has_input(i) && !g.type(node.inputs[size_t(i)]).shape.fully_known()) return "shapes not known";
  if (!constant_input(g, node, 1)) return "weights are not constant";
  const Dims x = g.type(node.inputs[0]).shape.concrete();
  if (x[2] * x[3] >= (int64_t(1) << 31)) return "image planes of 2^31 pixels or more";
  if (node.has_input(3) && !constant_input(g, node, 3)) return "bias is not constant";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_deform_conv(const Graph& g, const Node& node) {
  return std::make_shared<DeformConvKernel>(g, node);
}

}  // namespace

extern const Tactic kDeformConvIm2colGemm{"deform-conv.im2col-gemm", OpKind::DeformConv, deform_conv_rejects,
                                          prepare_deform_conv};

}  // namespace nnc::cpu
