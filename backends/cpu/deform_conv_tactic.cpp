// backends/cpu/deform_conv_tactic.cpp — deform-conv.im2col-gemm: DeformConv on f32 as a
// deformable im2col feeding the packed GEMM.
//
// For a block of output positions, each (offset group, kernel tap, position) turns its offset
// and mask into four (pixel, weight) taps once; every channel of the offset group then fills its
// column row from those taps. The columns [C·kH·kW, block] go to the same packed GEMM as Conv
// (weights packed at compile time, bias in the epilogue). Blocks of positions keep the column
// buffer within a few MiB whatever the image size.
#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/deform_conv.h"

namespace nnc::cpu {
namespace {

constexpr int64_t kPositions = 512;  // output positions per column block

// column[p] = mask[p] · Σ_t weight[p][t] · plane[pixel[p][t]] over the four taps of each
// position. A zero weight reads nothing (a tap outside the image, as the reference kernel
// skips it); the select keeps the loop branch-free so it vectorises with gathers.
__attribute__((target_clones("avx512f", "avx2", "default"))) void fill_column(float* __restrict column,
                                                                                const float* __restrict plane,
                                                                                const int32_t* __restrict pixel,
                                                                                const float* __restrict weight,
                                                                                const float* __restrict mask,
                                                                                int64_t count) {
  for (int64_t p = 0; p < count; ++p) {
    float v = 0;
    for (int t = 0; t < 4; ++t) {
      const float w = weight[p * 4 + t], x = plane[pixel[p * 4 + t]];
      v += w != 0 ? w * x : 0.0f;
    }
    column[p] = mask[p] * v;
  }
}

class DeformConvKernel final : public NodeKernel {
 public:
  DeformConvKernel(const Graph& g, const Node& node) {
    const Tensor& weight = *constant_input(g, node, 1);
    const Dims& w = weight.dims();
    group_ = attr_int(node, "group");
    maps_per_group_ = w[0] / group_;
    depth_ = w[1] * w[2] * w[3];
    kernel_ = &micro_kernel_for_rows(maps_per_group_);
    for (int64_t grp = 0; grp < group_; ++grp) {
      const StridedSource rows(weight.data<float>() + grp * maps_per_group_ * depth_, depth_, 1);
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
    const int64_t positions = g.out_h * g.out_w, taps = g.kernel_h * g.kernel_w;
    const int64_t block = std::min(kPositions, positions);
    std::vector<float> columns(size_t(g.channels * taps * block));
    std::vector<int32_t> pixel(size_t(g.offset_group * taps * block * 4));
    std::vector<float> weight(pixel.size());
    std::vector<float> modulation(size_t(g.offset_group * taps * block));
    const float* mask = k.has_input(4) ? k.in(4).data<float>() : nullptr;
    for (int64_t b = 0; b < g.batch; ++b) {
      const float* image = k.in(0).data<float>() + b * g.channels * g.height * g.width;
      const float* offset = k.in(2).data<float>() + b * g.offset_group * taps * 2 * positions;
      const float* batch_mask = mask ? mask + b * g.offset_group * taps * positions : nullptr;
      float* out = k.out(0).data<float>() + b * g.maps * positions;
      for (int64_t p0 = 0; p0 < positions; p0 += block) {
        const int64_t count = std::min(block, positions - p0);
        // Taps, per (offset group, kernel tap, position).
        parallel_for(g.offset_group * taps, [&](int, int64_t begin, int64_t end) {
          for (int64_t row = begin; row < end; ++row) {
            const int64_t tap = row % taps, kh = tap / g.kernel_w, kw = tap % g.kernel_w;
            for (int64_t p = 0; p < count; ++p) {
              const int64_t position = p0 + p, i = position / g.out_w, j = position % g.out_w;
              const double dy = offset[(2 * row) * positions + position], dx = offset[(2 * row + 1) * positions + position];
              const double m = batch_mask ? double(batch_mask[row * positions + position]) : 1.0;
              int64_t px[4];
              double wt[4];
              deform_conv_taps(double(i * g.stride_h - g.pad_top + kh * g.dilation_h) + dy,
                               double(j * g.stride_w - g.pad_left + kw * g.dilation_w) + dx, g.height, g.width, px, wt);
              for (int t = 0; t < 4; ++t) {
                const size_t at = size_t((row * block + p) * 4 + t);
                pixel[at] = int32_t(px[t]);  // H·W < 2^31: checked in rejects
                weight[at] = float(wt[t]);
              }
              modulation[size_t(row * block + p)] = float(m);
            }
          }
        });
        // Columns, per (channel, kernel tap): four multiply-adds per position from the taps.
        const int64_t per_offset_group = g.channels / g.offset_group;
        parallel_for(g.channels * taps, [&](int, int64_t begin, int64_t end) {
          for (int64_t row = begin; row < end; ++row) {
            const int64_t c = row / taps, tap = row % taps;
            const float* plane = image + c * g.height * g.width;
            const int64_t tap_row = (c / per_offset_group) * taps + tap;
            fill_column(columns.data() + row * block, plane, pixel.data() + tap_row * block * 4,
                        weight.data() + tap_row * block * 4, modulation.data() + tap_row * block, count);
          }
        });
        for (int64_t grp = 0; grp < group_; ++grp) {
          GemmEpilogue epilogue;
          epilogue.row_bias = bias_.empty() ? nullptr : bias_.data() + grp * maps_per_group_;
          gemm(maps_per_group_, count, depth_, *packed_[size_t(grp)],
               StridedSource(columns.data() + grp * depth_ * block, 1, block), out + grp * maps_per_group_ * positions + p0,
               positions, epilogue, true, kernel_);
        }
      }
    }
  }

 private:
  const MicroKernel* kernel_ = nullptr;
  int64_t group_ = 1, maps_per_group_ = 0, depth_ = 0;
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
