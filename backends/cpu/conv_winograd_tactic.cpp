// backends/cpu/conv_winograd_tactic.cpp — conv.winograd-f2x2: 3x3 stride-1 convolutions with
// Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016).
//
// Each 2x2 block of outputs comes from a 4x4 input patch d and the 3x3 filter g as
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// so the 36 multiplies of four direct 3x3 windows become 16. Summed over input channels, the
// elementwise product is 16 independent GEMMs, one per position ξ of the 4x4 transform:
//
//   M[ξ](m, tile) = Σ_c U[ξ](m, c) · V[ξ](c, tile)     U = G g Gᵀ (packed once), V = Bᵀ d B
//
// The image is processed in blocks of tiles small enough to stay in L2, each by one thread:
// transform the block's input (a vertical pass over whole rows, then horizontal) straight into
// the GEMM's packed-panel layout, run the 16 GEMMs, transform back (adding bias and residual,
// applying the activation) straight into the output.
#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/micro_kernels.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

constexpr int kPositions = 16;  // 4x4 transform

// The transforms below are free functions compiled for AVX-512, AVX2 and plain x86-64 (chosen at
// run time, target_clones) so that their loops over tiles vectorise.

// Bᵀ d over whole rows: r0 = d0 - d2, r1 = d1 + d2, r2 = d2 - d1, r3 = d1 - d3. (__restrict
// parameters: the rows never overlap, and without it GCC does not vectorise.)
__attribute__((target_clones("avx512f", "avx2", "default"))) void vertical_transform(
    const float* __restrict d0, const float* __restrict d1, const float* __restrict d2, const float* __restrict d3,
    float* __restrict r0, float* __restrict r1, float* __restrict r2, float* __restrict r3, int64_t span) {
  for (int64_t q = 0; q < span; ++q) {
    r0[q] = d0[q] - d2[q];
    r1[q] = d1[q] + d2[q];
    r2[q] = d2[q] - d1[q];
    r3[q] = d1[q] - d3[q];
  }
}

// Splits a transformed row into its even and odd columns, so that the horizontal transform reads
// with unit stride: even[j] = r[2j], odd[j] = r[2j + 1].
__attribute__((target_clones("avx512f", "avx2", "default"))) void deinterleave(const float* __restrict r,
                                                                               float* __restrict even,
                                                                               float* __restrict odd, int64_t half) {
  for (int64_t j = 0; j < half; ++j) {
    even[j] = r[2 * j];
    odd[j] = r[2 * j + 1];
  }
}

// (Bᵀ d) B along one transformed row, split into even (e) and odd (o) columns, for `count`
// tiles: tile t reads columns 2t .. 2t+3 (e[t], o[t], e[t+1], o[t+1]) and writes its four
// positions to out0..out3.
__attribute__((target_clones("avx512f", "avx2", "default"))) void horizontal_transform(
    const float* __restrict e, const float* __restrict o, int64_t count, float* __restrict out0,
    float* __restrict out1, float* __restrict out2, float* __restrict out3) {
  for (int64_t t = 0; t < count; ++t) {
    out0[t] = e[t] - e[t + 1];
    out1[t] = o[t] + e[t + 1];
    out2[t] = e[t + 1] - o[t];
    out3[t] = o[t] - o[t + 1];
  }
}

// Aᵀ M A (+ bias) for `tiles` tiles of one tile row; p[ξ · step + t] is tile t's product at
// position ξ. Writes output columns [0, width) of rows 0 and 1 (out1 may be scratch when the
// image has no second row here).
__attribute__((target_clones("avx512f", "avx2", "default"))) void output_transform(
    const float* __restrict p, int64_t step, int64_t tiles, float bias, float* __restrict out0,
    float* __restrict out1, int64_t width) {
  const int64_t whole = std::min(tiles, width / 2);  // tiles with both output columns inside
  // Column j of Aᵀ M: top_j = m0j + m1j + m2j, bottom_j = m1j - m2j - m3j (mij at ξ = 4i + j).
  auto top = [&](int j, int64_t t) { return p[j * step + t] + p[(4 + j) * step + t] + p[(8 + j) * step + t]; };
  auto bottom = [&](int j, int64_t t) {
    return p[(4 + j) * step + t] - p[(8 + j) * step + t] - p[(12 + j) * step + t];
  };
  for (int64_t t = 0; t < whole; ++t) {
    const float t0 = top(0, t), t1 = top(1, t), t2 = top(2, t), t3 = top(3, t);
    const float b0 = bottom(0, t), b1 = bottom(1, t), b2 = bottom(2, t), b3 = bottom(3, t);
    out0[2 * t] = t0 + t1 + t2 + bias;
    out0[2 * t + 1] = t1 - t2 - t3 + bias;
    out1[2 * t] = b0 + b1 + b2 + bias;
    out1[2 * t + 1] = b1 - b2 - b3 + bias;
  }
  if (whole < tiles) {  // an odd output width: the last tile has one column
    const int64_t t = whole;
    out0[2 * t] = top(0, t) + top(1, t) + top(2, t) + bias;
    out1[2 * t] = bottom(0, t) + bottom(1, t) + bottom(2, t) + bias;
  }
}

class WinogradKernel final : public NodeKernel {
 public:
  WinogradKernel(const Node& node, const Tensor& weight, const Tensor* bias) : activation_(Activation::of(node)) {
    maps_ = weight.dims()[0];
    channels_ = weight.dims()[1];
    // U[ξ][m][c] = (G g Gᵀ)[ξ], G = [[1,0,0], [½,½,½], [½,-½,½], [0,0,1]], computed in double.
    std::vector<float> u(size_t(kPositions * maps_ * channels_));
    const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    for (int64_t m = 0; m < maps_; ++m)
      for (int64_t c = 0; c < channels_; ++c) {
        const float* g = weight.data<float>() + (m * channels_ + c) * 9;
        double gg[4][3] = {};  // G g
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) gg[i][j] += G[i][k] * g[k * 3 + j];
        for (int i = 0; i < 4; ++i)
          for (int j = 0; j < 4; ++j) {
            double v = 0;
            for (int k = 0; k < 3; ++k) v += gg[i][k] * G[j][k];
            u[size_t(((i * 4 + j) * maps_ + m) * channels_ + c)] = float(v);
          }
      }
    kernel_ = &micro_kernel_for_rows(maps_);
    for (int xi = 0; xi < kPositions; ++xi) {
      const StridedSource rows(u.data() + xi * maps_ * channels_, channels_, 1);
      packed_.push_back(std::make_unique<PackedPanels>(rows, maps_, channels_, kernel_->mr));
    }
    if (bias) bias_.assign(bias->data<float>(), bias->data<float>() + bias->numel());
  }

  std::string_view tactic() const override { return "conv.winograd-f2x2"; }

  void run(KernelContext& k) const override {
    const Dims& xd = k.in(0).dims();
    const WindowGeometry g = window_geometry(k.node, {xd[2], xd[3]}, {3, 3}, false);
    Tiling s{xd[0], xd[2], xd[3], g.output[0], g.output[1], g.pad_begin[0], g.pad_begin[1]};
    s.tiles_w = (s.out_w + 1) / 2;
    s.tiles_h = (s.out_h + 1) / 2;
    // Tiles per block: the block's transformed input and products (16 · (C + M) floats per
    // tile) should stay in L2 (2 MiB here), yet the block must be wide enough that reading the
    // 16 transformed filters once per block is cheap.
    const int64_t target = std::clamp<int64_t>((int64_t(2) << 20) / (64 * (channels_ + maps_)), 64, 512);
    if (s.tiles_w >= target) {  // segments of one tile row
      s.rows_per_block = 1;
      s.cols_per_block = target;
    } else {  // several whole tile rows
      s.rows_per_block = std::max<int64_t>(1, std::min<int64_t>(s.tiles_h, target / s.tiles_w));
      s.cols_per_block = s.tiles_w;
    }
    const int64_t row_blocks = (s.tiles_h + s.rows_per_block - 1) / s.rows_per_block;
    const int64_t col_blocks = (s.tiles_w + s.cols_per_block - 1) / s.cols_per_block;
    const int64_t per_image = row_blocks * col_blocks;
    parallel_for(s.batch * per_image, [&](int, int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t block = task % per_image;
        run_block(k, s, task / per_image, block / col_blocks * s.rows_per_block, block % col_blocks * s.cols_per_block);
      }
    });
  }

 private:
  struct Tiling {
    int64_t batch, height, width, out_h, out_w, pad_h, pad_w;
    int64_t tiles_h = 0, tiles_w = 0, rows_per_block = 0, cols_per_block = 0;
  };

  // B operands already laid out as the GEMM's panels: tile t, channel c at
  // ((t / nr) · C + c) · nr + t % nr, so a panel is a pointer, not a copy.
  class PanelView final : public PanelSource {
   public:
    PanelView(const float* base, int64_t depth, int nr) : base_(base), depth_(depth), nr_(nr) {}
    const float* panel(int64_t i0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const override {
      if (pad == nr_ && i0 % nr_ == 0) return base_ + ((i0 / nr_) * depth_ + k0) * nr_;
      for (int64_t k = 0; k < kc; ++k)  // another tiling (not used by gemm()): gather
        for (int64_t i = 0; i < pad; ++i) {
          const int64_t t = i0 + i;
          scratch[k * pad + i] = i < width ? base_[((t / nr_) * depth_ + k0 + k) * nr_ + t % nr_] : 0.0f;
        }
      return scratch;
    }

   private:
    const float* base_;
    int64_t depth_;
    int nr_;
  };

  // Tile rows [ty0, ty0 + rows_per_block) x tile columns [tx0, tx0 + cols_per_block) of image b.
  void run_block(KernelContext& k, const Tiling& s, int64_t b, int64_t ty0, int64_t tx0) const {
    const int64_t rows = std::min(s.rows_per_block, s.tiles_h - ty0);
    const int64_t cols = std::min(s.cols_per_block, s.tiles_w - tx0);
    const int nr = micro_tile().nr;
    const int64_t tiles = rows * cols;                          // N of this block's GEMMs
    const int64_t padded = (tiles + nr - 1) / nr * nr;          // whole panels
    const int64_t span = 2 * cols + 2;                          // input columns a tile row reads
    thread_local std::vector<float> v, m, line, spare_row;
    v.resize(size_t(kPositions * channels_ * padded));
    m.resize(size_t(kPositions * maps_ * padded));
    line.resize(size_t(12 * span));
    spare_row.resize(size_t(span));  // the output row below an odd last row
    if (padded != tiles) std::fill(v.begin(), v.end(), 0.0f);  // the GEMM reads whole panels
    float* d[4] = {line.data(), line.data() + span, line.data() + 2 * span, line.data() + 3 * span};
    float* r[4] = {line.data() + 4 * span, line.data() + 5 * span, line.data() + 6 * span, line.data() + 7 * span};
    const int64_t half = span / 2;  // span is even: 2 · cols + 2
    float* even[4] = {line.data() + 8 * span, line.data() + 9 * span, line.data() + 10 * span, line.data() + 11 * span};
    float* odd[4] = {even[0] + half, even[1] + half, even[2] + half, even[3] + half};
    // Where tile t of channel 0 at position 0 lives in V (PanelView's layout).
    thread_local std::vector<int64_t> tile_offset;
    tile_offset.resize(size_t(tiles));
    for (int64_t t = 0; t < tiles; ++t) tile_offset[size_t(t)] = (t / nr) * channels_ * nr + t % nr;
    const int64_t position_step = channels_ * padded;

    // Input transform V = Bᵀ d B, Bᵀ = [[1,0,-1,0], [0,1,1,0], [0,-1,1,0], [0,1,0,-1]].
    const float* x = k.in(0).data<float>() + b * channels_ * s.height * s.width;
    const int64_t first_column = 2 * tx0 - s.pad_w;  // input column under d[.][0]
    for (int64_t c = 0; c < channels_; ++c)
      for (int64_t row = 0; row < rows; ++row) {
        const int64_t ty = ty0 + row;
        for (int i = 0; i < 4; ++i) {  // the four input rows of this tile row, zero-padded
          const int64_t ih = 2 * ty - s.pad_h + i;
          if (ih < 0 || ih >= s.height) {
            std::fill(d[i], d[i] + span, 0.0f);
            continue;
          }
          const float* src = x + (c * s.height + ih) * s.width;
          const int64_t lo = std::clamp<int64_t>(-first_column, 0, span);
          const int64_t hi = std::clamp<int64_t>(s.width - first_column, lo, span);
          std::fill(d[i], d[i] + lo, 0.0f);
          std::copy(src + first_column + lo, src + first_column + hi, d[i] + lo);
          std::fill(d[i] + hi, d[i] + span, 0.0f);
        }
        vertical_transform(d[0], d[1], d[2], d[3], r[0], r[1], r[2], r[3], span);
        for (int i = 0; i < 4; ++i) deinterleave(r[i], even[i], odd[i], span / 2);
        // (Bᵀ d) B, in runs of tiles whose entries in V are contiguous (within one panel).
        for (int64_t t = 0; t < cols;) {
          const int64_t tile = row * cols + t;
          const int64_t run = std::min<int64_t>(cols - t, nr - tile % nr);
          for (int i = 0; i < 4; ++i) {
            float* out = v.data() + i * 4 * position_step + c * nr + tile_offset[size_t(tile)];
            horizontal_transform(even[i] + t, odd[i] + t, run, out, out + position_step, out + 2 * position_step,
                                 out + 3 * position_step);
          }
          t += run;
        }
      }

    for (int xi = 0; xi < kPositions; ++xi)
      gemm(maps_, padded, channels_, *packed_[size_t(xi)], PanelView(v.data() + xi * channels_ * padded, channels_, nr),
           m.data() + xi * maps_ * padded, padded, {}, /*threaded=*/false, kernel_);

    // Output transform Y = Aᵀ M A, Aᵀ = [[1,1,1,0], [0,1,-1,-1]], then the epilogue.
    float* y = k.out(0).data<float>() + b * maps_ * s.out_h * s.out_w;
    const float* residual = k.has_input(3) ? k.in(3).data<float>() + b * maps_ * s.out_h * s.out_w : nullptr;
    const int64_t step = maps_ * padded;  // from position ξ to ξ + 1
    for (int64_t mi = 0; mi < maps_; ++mi) {
      const float bias = bias_.empty() ? 0.0f : bias_[size_t(mi)];
      for (int64_t row = 0; row < rows; ++row) {
        const int64_t oy = 2 * (ty0 + row);
        float* out0 = y + (mi * s.out_h + oy) * s.out_w;
        float* out1 = out0 + s.out_w;
        const bool second_row = oy + 1 < s.out_h;
        output_transform(m.data() + mi * padded + row * cols, step, cols, bias, out0 + 2 * tx0,
                         second_row ? out1 + 2 * tx0 : spare_row.data(), s.out_w - 2 * tx0);
        // The epilogue on the columns this block wrote.
        const int64_t x0 = 2 * tx0, x1 = std::min(s.out_w, 2 * (tx0 + cols));
        for (int64_t line_index = 0; line_index < (second_row ? 2 : 1); ++line_index) {
          float* out = out0 + line_index * s.out_w + x0;
          if (residual) {
            const float* res = residual + (out - y);
            for (int64_t i = 0; i < x1 - x0; ++i) out[i] += res[i];
          }
          activation_.apply(out, x1 - x0);
        }
      }
    }
  }

  int64_t maps_ = 0, channels_ = 0;
  const MicroKernel* kernel_ = nullptr;  // chosen for M at prepare time; the packing follows it
  std::vector<std::unique_ptr<PackedPanels>> packed_;
  std::vector<float> bias_;
  Activation activation_;
};

std::string winograd_rejects(const Graph& graph, const Node& node) {
  const TensorType& x = graph.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known() || x.rank() != 4) return "not a 2-D f32 conv with known shapes";
  if (!constant_input(graph, node, 1)) return "weights are not constant";
  if (node.has_input(2) && !constant_input(graph, node, 2)) return "bias is not constant";
  if (attr_int(node, "group") != 1) return "grouped";
  const Dims w = graph.type(node.inputs[1]).shape.concrete();
  if (w[2] != 3 || w[3] != 3) return "not a 3x3 kernel";
  const WindowGeometry g = window_geometry(node, {x.shape.dims[2].value, x.shape.dims[3].value}, {3, 3}, false);
  if (g.stride[0] != 1 || g.stride[1] != 1 || g.dilation[0] != 1 || g.dilation[1] != 1) return "strided or dilated";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_winograd(const Graph& graph, const Node& node) {
  return std::make_shared<WinogradKernel>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2));
}

}  // namespace

extern const Tactic kConvWinogradF2x2{"conv.winograd-f2x2", OpKind::Conv, winograd_rejects, prepare_winograd};

}  // namespace nnc::cpu
