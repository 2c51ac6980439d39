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
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

constexpr int kPositions = 16;  // 4x4 transform

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
    for (int xi = 0; xi < kPositions; ++xi) {
      const StridedSource rows(u.data() + xi * maps_ * channels_, channels_, 1);
      packed_.push_back(std::make_unique<PackedPanels>(rows, maps_, channels_, micro_tile().mr));
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
    thread_local std::vector<float> v, m, line;
    v.resize(size_t(kPositions * channels_ * padded));
    m.resize(size_t(kPositions * maps_ * padded));
    line.resize(size_t(8 * span));
    if (padded != tiles) std::fill(v.begin(), v.end(), 0.0f);  // the GEMM reads whole panels
    float* d[4] = {line.data(), line.data() + span, line.data() + 2 * span, line.data() + 3 * span};
    float* r[4] = {line.data() + 4 * span, line.data() + 5 * span, line.data() + 6 * span, line.data() + 7 * span};
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
          std::fill(d[i], d[i] + span, 0.0f);
          if (ih < 0 || ih >= s.height) continue;
          const float* src = x + (c * s.height + ih) * s.width;
          const int64_t lo = std::clamp<int64_t>(-first_column, 0, span);
          const int64_t hi = std::clamp<int64_t>(s.width - first_column, lo, span);
          std::copy(src + first_column + lo, src + first_column + hi, d[i] + lo);
        }
        for (int64_t q = 0; q < span; ++q) {  // Bᵀ d, whole rows at once
          r[0][q] = d[0][q] - d[2][q];
          r[1][q] = d[1][q] + d[2][q];
          r[2][q] = d[2][q] - d[1][q];
          r[3][q] = d[1][q] - d[3][q];
        }
        const int64_t* offset = tile_offset.data() + row * cols;
        for (int i = 0; i < 4; ++i) {  // (Bᵀ d) B, tile by tile
          const float* ri = r[i];
          float* out = v.data() + i * 4 * position_step + c * nr;
          for (int64_t t = 0; t < cols; ++t) {
            const float a0 = ri[2 * t], a1 = ri[2 * t + 1], a2 = ri[2 * t + 2], a3 = ri[2 * t + 3];
            float* at = out + offset[t];
            at[0] = a0 - a2;
            at[position_step] = a1 + a2;
            at[2 * position_step] = a2 - a1;
            at[3 * position_step] = a1 - a3;
          }
        }
      }

    for (int xi = 0; xi < kPositions; ++xi)
      gemm(maps_, padded, channels_, *packed_[size_t(xi)], PanelView(v.data() + xi * channels_ * padded, channels_, nr),
           m.data() + xi * maps_ * padded, padded, {}, /*threaded=*/false);

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
        const float* p = m.data() + mi * padded + row * cols;
        for (int64_t t = 0; t < cols; ++t) {
          float q[16];
          for (int xi = 0; xi < kPositions; ++xi) q[xi] = p[xi * step + t];
          float top[4], bottom[4];  // Aᵀ M
          for (int j = 0; j < 4; ++j) {
            top[j] = q[j] + q[4 + j] + q[8 + j];
            bottom[j] = q[4 + j] - q[8 + j] - q[12 + j];
          }
          const int64_t ox = 2 * (tx0 + t);
          out0[ox] = top[0] + top[1] + top[2] + bias;
          if (ox + 1 < s.out_w) out0[ox + 1] = top[1] - top[2] - top[3] + bias;
          if (second_row) {
            out1[ox] = bottom[0] + bottom[1] + bottom[2] + bias;
            if (ox + 1 < s.out_w) out1[ox + 1] = bottom[1] - bottom[2] - bottom[3] + bias;
          }
        }
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
