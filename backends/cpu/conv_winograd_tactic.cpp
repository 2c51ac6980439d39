// backends/cpu/conv_winograd_tactic.cpp — conv.winograd-f2x2 and conv.winograd-f4x4: 3x3
// stride-1 convolutions with Winograd's minimal filtering F(m x m, 3x3), m = 2 or 4 (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016; the matrices are in
// winograd_transforms.h).
//
// Each m x m block of outputs comes from an α x α input patch d (α = m + 2) and the filter g as
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// so the 9m² multiplies of m² direct windows become α² (F2: 36 -> 16, F4: 144 -> 36). Summed
// over input channels, the elementwise product is α² independent GEMMs, one per position ξ:
//
//   M[ξ](m, tile) = Σ_c U[ξ](m, c) · V[ξ](c, tile)     U = G g Gᵀ (packed once), V = Bᵀ d B
//
// The image is processed in blocks of tiles (runs in raster order) small enough to stay in L2,
// each by one thread:
// transform the block's input straight into the GEMM's packed-panel layout, run the α² GEMMs,
// transform back (adding bias and residual, applying the activation) straight into the output.
// F4 does less arithmetic than F2 but rounds more (its transforms have entries up to 8), which
// the tuner's check against the reference kernel bounds.
#include <algorithm>

#include "backends/cpu/gemm.h"
#include "backends/cpu/micro_kernels.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "backends/cpu/winograd_transforms.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

template <int kM>
class WinogradKernel final : public NodeKernel {
  static constexpr int kAlpha = kM + 2;             // input patch side
  static constexpr int kPositions = kAlpha * kAlpha;  // GEMMs per block

 public:
  WinogradKernel(const Node& node, const Tensor& weight, const Tensor* bias)
      : activation_(Activation::of(node)), residual_last_(residual_after_activation(node)) {
    maps_ = weight.dims()[0];
    channels_ = weight.dims()[1];
    // U[ξ][m][c] = (G g Gᵀ)[ξ], computed in double.
    const double* G = winograd::filter_matrix(kM);  // kAlpha x 3
    std::vector<float> u(size_t(kPositions * maps_ * channels_));
    for (int64_t m = 0; m < maps_; ++m)
      for (int64_t c = 0; c < channels_; ++c) {
        const float* g = weight.data<float>() + (m * channels_ + c) * 9;
        double gg[kAlpha][3] = {};  // G g
        for (int i = 0; i < kAlpha; ++i)
          for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 3; ++k) gg[i][j] += G[i * 3 + k] * g[k * 3 + j];
        for (int i = 0; i < kAlpha; ++i)
          for (int j = 0; j < kAlpha; ++j) {
            double v = 0;
            for (int k = 0; k < 3; ++k) v += gg[i][k] * G[j * 3 + k];
            u[size_t(((i * kAlpha + j) * maps_ + m) * channels_ + c)] = float(v);
          }
      }
    kernel_ = &micro_kernel_for_rows(maps_);
    // Input channels are transformed and multiplied a chunk at a time, the chunk's products
    // accumulating in M, so that the block's V (α² · chunk · tiles floats) and M (α² · maps ·
    // tiles) stay in L2 together: with all 128 channels of a 128 -> 64 conv, V alone is 1.8 MB.
    // When M alone overflows L2 (deep layers, hundreds of maps) every chunk would re-read it:
    // then the chunks are the GEMM's own K blocks, which it re-reads C for anyway.
    const int64_t budget = (int64_t(3) << 19) / (4 * kPositions * 96);  // 1.5 MiB over 96-tile blocks
    const int64_t room = (budget - maps_) / 16 * 16;
    chunk_ = std::min(channels_, room >= 32 ? room : kKc);
    for (int64_t c0 = 0; c0 < channels_; c0 += chunk_) {
      const int64_t depth = std::min(chunk_, channels_ - c0);
      for (int xi = 0; xi < kPositions; ++xi) {
        const StridedSource rows(u.data() + xi * maps_ * channels_ + c0, channels_, 1);
        packed_.push_back(std::make_unique<PackedPanels>(rows, maps_, depth, kernel_->mr));
      }
    }
    if (bias) bias_.assign(bias->data<float>(), bias->data<float>() + bias->numel());
  }

  std::string_view tactic() const override { return kM == 2 ? "conv.winograd-f2x2" : "conv.winograd-f4x4"; }
  int64_t held_bytes() const override {  // the transformed filters (α²/9 times the weights)
    int64_t bytes = 0;
    for (const auto& p : packed_) bytes += p->bytes();
    return bytes;
  }

  void run(KernelContext& k) const override {
    const Dims& xd = k.in(0).dims();
    const WindowGeometry g = window_geometry(k.node, {xd[2], xd[3]}, {3, 3}, false);
    Tiling s{xd[0], xd[2], xd[3], g.output[0], g.output[1], g.pad_begin[0], g.pad_begin[1]};
    s.tiles_w = (s.out_w + kM - 1) / kM;
    s.tiles_h = (s.out_h + kM - 1) / kM;
    // Tiles per block: the block's transformed input and products (α² · (C + M) floats per
    // tile) should stay in L2 (about 2 MiB), yet the block must be wide enough that reading the
    // α² transformed filters once per block is cheap: at least 96 tiles, in whole 32-wide
    // panels. A block is a run of tiles in raster order, crossing tile rows where it must, so
    // that every block but an image's last fills its panels (whole tile rows would leave, e.g.,
    // 80 of 96 columns used at any size a power of two times 20).
    const int64_t target =
        std::clamp<int64_t>((int64_t(2) << 20) / (4 * kPositions * (channels_ + maps_)), 96, 512) / 32 * 32;
    const int64_t tiles = s.tiles_h * s.tiles_w;
    // Few blocks (small images, deep layers): make their count a multiple of the threads and
    // their sizes even, or one thread gets 96 tiles while the other gets the last 4.
    int64_t blocks = (tiles + target - 1) / target;
    if (const int64_t threads = thread_count(); s.batch * blocks < 4 * threads && tiles >= 32 * threads)
      blocks = (blocks + threads - 1) / threads * threads;
    s.block_tiles = ((tiles + blocks - 1) / blocks + 31) / 32 * 32;
    const int64_t per_image = (tiles + s.block_tiles - 1) / s.block_tiles;
    parallel_for(s.batch * per_image, [&](int, int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t first = task % per_image * s.block_tiles;
        run_block(k, s, task / per_image, first, std::min(s.block_tiles, tiles - first));
      }
    });
  }

 private:
  struct Tiling {
    int64_t batch, height, width, out_h, out_w, pad_h, pad_w;
    int64_t tiles_h = 0, tiles_w = 0, block_tiles = 0;
  };

  // The part of one tile row a block covers: tile columns [tx0, tx0 + cols) of tile row ty,
  // which are the block's tiles [first, first + cols).
  struct Segment {
    int64_t ty, tx0, cols, first;
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

  // The tile rows that tiles [first_tile, first_tile + tiles) of an image cover, in raster order.
  static std::vector<Segment> segments_of(const Tiling& s, int64_t first_tile, int64_t tiles) {
    std::vector<Segment> segments;
    for (int64_t t = first_tile; t < first_tile + tiles;) {
      const Segment seg{t / s.tiles_w, t % s.tiles_w, std::min(s.tiles_w - t % s.tiles_w, first_tile + tiles - t),
                        t - first_tile};
      segments.push_back(seg);
      t += seg.cols;
    }
    return segments;
  }

  static int64_t widest(const std::vector<Segment>& segments) {
    int64_t w = 0;
    for (const Segment& seg : segments) w = std::max(w, seg.cols);
    return w;
  }

  // V's layout for a chunk of `depth` channels over `padded` tiles: position ξ at
  // ξ · depth · padded, then PanelView's panels.
  // Zeroes the last panel's unused lanes: the GEMM reads whole panels, and although their
  // products are discarded, stale floats there could be NaNs or denormals that slow the kernel.
  static void clear_unused_lanes(float* v, int64_t depth, int64_t tiles, int64_t padded, int nr) {
    if (const int64_t used = tiles % nr; used != 0)
      for (int xi = 0; xi < kPositions; ++xi)
        for (int64_t c = 0; c < depth; ++c) {
          float* lanes = v + xi * depth * padded + (tiles / nr) * depth * nr + c * nr;
          std::fill(lanes + used, lanes + nr, 0.0f);
        }
  }

  // V = Bᵀ d B for input channel c (the chunk's channel c - c0) over every segment, written into
  // the chunk's panels.
  void transform_input(const Tiling& s, const float* x, int64_t c, int64_t c0, int64_t depth,
                       const std::vector<Segment>& segments, int64_t padded, float* v) const {
    const int nr = micro_kernel().nr;
    const int64_t most = widest(segments);
    const int64_t max_span = kM * most + kM;  // input columns a segment reads, rounded to whole phases
    thread_local std::vector<float> line;
    line.resize(size_t(2 * kAlpha * max_span + kAlpha * kM * (most + 1)));
    const int64_t position_step = depth * padded;
    for (const Segment& seg : segments) {
      const int64_t span = kM * seg.cols + kM;
      const int64_t phase_length = seg.cols + 1;
      float* d[kAlpha];      // the α input rows under the segment, zero-padded
      float* r[kAlpha];      // Bᵀ d
      float* phase[kAlpha];  // r[i] split into kM phases of phase_length
      for (int i = 0; i < kAlpha; ++i) {
        d[i] = line.data() + i * max_span;
        r[i] = line.data() + (kAlpha + i) * max_span;
        phase[i] = line.data() + 2 * kAlpha * max_span + i * kM * phase_length;
      }
      const int64_t first_column = kM * seg.tx0 - s.pad_w;  // input column under d[.][0]
      for (int i = 0; i < kAlpha; ++i) {
        const int64_t ih = kM * seg.ty - s.pad_h + i;
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
      if constexpr (kM == 2) {
        winograd::input_rows_f2(d[0], d[1], d[2], d[3], r[0], r[1], r[2], r[3], span);
      } else {
        winograd::input_rows_f4(d[0], d[1], d[2], d[3], d[4], d[5], r[0], r[1], r[2], r[3], r[4], r[5], span);
      }
      for (int i = 0; i < kAlpha; ++i) winograd::split_phases(r[i], kM, phase_length, phase[i]);
      // B over columns, straight into the panels of V.
      const winograd::PanelLayout layout{seg.first % nr, nr, depth * nr, position_step};
      float* out = v + (c - c0) * nr + (seg.first / nr) * depth * nr + seg.first % nr;
      if constexpr (kM == 2) {
        winograd::input_columns_f2(phase[0], phase_length, seg.cols, layout, out);
      } else {
        winograd::input_columns_f4(phase[0], phase_length, seg.cols, layout, out);
      }
    }
  }

  // M[ξ] (+)= U[ξ] V[ξ] over chunk `chunk` (depth channels), every ξ.
  void multiply(int64_t chunk, int64_t depth, const float* v, int64_t padded, float* m) const {
    const int nr = micro_kernel().nr;
    GemmEpilogue epilogue;
    epilogue.accumulate = chunk > 0;  // later chunks add to the products of earlier ones
    for (int xi = 0; xi < kPositions; ++xi)
      gemm(maps_, padded, depth, *packed_[size_t(chunk * kPositions + xi)], PanelView(v + xi * depth * padded, depth, nr),
           m + xi * maps_ * padded, padded, epilogue, /*threaded=*/false, kernel_);
  }

  // Y = Aᵀ M A (+ bias) for output map mi over every segment, then the rest of the epilogue.
  void transform_output(KernelContext& k, const Tiling& s, int64_t b, int64_t mi, const std::vector<Segment>& segments,
                        const float* m, int64_t padded) const {
    const int64_t most = widest(segments);
    thread_local std::vector<float> spare, output_scratch;
    spare.resize(size_t(kM * kM * (most + 1)));  // output rows below the image's last row
    output_scratch.resize(size_t(40 * most));
    float* y = k.out(0).data<float>() + b * maps_ * s.out_h * s.out_w;
    const float* residual = k.has_input(3) ? k.in(3).data<float>() + b * maps_ * s.out_h * s.out_w : nullptr;
    const int64_t step = maps_ * padded;  // from position ξ to ξ + 1
    const float bias = bias_.empty() ? 0.0f : bias_[size_t(mi)];
    for (const Segment& seg : segments) {
      const int64_t oy = kM * seg.ty;
      const int64_t x0 = kM * seg.tx0, x1 = std::min(s.out_w, kM * (seg.tx0 + seg.cols));  // columns written
      float* out[kM];  // the tile row's output rows; past the image's last row, scratch
      for (int a = 0; a < kM; ++a)
        out[a] = oy + a < s.out_h ? y + (mi * s.out_h + oy + a) * s.out_w + x0 : spare.data() + a * kM * (most + 1);
      const float* p = m + mi * padded + seg.first;
      if constexpr (kM == 2) {
        winograd::output_f2(p, step, seg.cols, bias, out[0], out[1], x1 - x0);
      } else {
        winograd::output_f4(p, step, seg.cols, bias, out[0], out[1], out[2], out[3], x1 - x0, output_scratch.data());
      }
      for (int a = 0; a < kM && oy + a < s.out_h; ++a)
        add_residual_and_activate(out[a], residual ? residual + (out[a] - y) : nullptr, x1 - x0, activation_,
                                  residual_last_);
    }
  }

  // Tiles [first_tile, first_tile + tiles) of image b, in raster order, on this thread.
  void run_block(KernelContext& k, const Tiling& s, int64_t b, int64_t first_tile, int64_t tiles) const {
    const int nr = micro_kernel().nr;
    const int64_t padded = (tiles + nr - 1) / nr * nr;  // whole panels: N of this block's GEMMs
    const std::vector<Segment> segments = segments_of(s, first_tile, tiles);
    thread_local std::vector<float> v, m;
    v.resize(size_t(kPositions * chunk_ * padded));
    m.resize(size_t(kPositions * maps_ * padded));
    const float* x = k.in(0).data<float>() + b * channels_ * s.height * s.width;
    for (int64_t c0 = 0, chunk = 0; c0 < channels_; c0 += chunk_, ++chunk) {
      const int64_t depth = std::min(chunk_, channels_ - c0);
      clear_unused_lanes(v.data(), depth, tiles, padded, nr);
      for (int64_t c = c0; c < c0 + depth; ++c) transform_input(s, x, c, c0, depth, segments, padded, v.data());
      multiply(chunk, depth, v.data(), padded, m.data());
    }
    for (int64_t mi = 0; mi < maps_; ++mi) transform_output(k, s, b, mi, segments, m.data(), padded);
  }

  int64_t maps_ = 0, channels_ = 0, chunk_ = 0;
  const MicroKernel* kernel_ = nullptr;  // chosen for M at prepare time; the packing follows it
  std::vector<std::unique_ptr<PackedPanels>> packed_;  // per channel chunk, per position ξ
  std::vector<float> bias_;
  Activation activation_;
  bool residual_last_;
};

std::string winograd_rejects(const Graph& graph, const Node& node) {
  if (std::string why = conv2d_rejects(graph, node); !why.empty()) return why;
  const TensorType& x = graph.type(node.inputs[0]);
  if (attr_int(node, "group") != 1) return "grouped";
  const Dims w = graph.type(node.inputs[1]).shape.concrete();
  if (w[2] != 3 || w[3] != 3) return "not a 3x3 kernel";
  const WindowGeometry g = window_geometry(node, {x.shape.dims[2].value, x.shape.dims[3].value}, {3, 3}, false);
  if (g.stride[0] != 1 || g.stride[1] != 1 || g.dilation[0] != 1 || g.dilation[1] != 1) return "strided or dilated";
  return "";
}

template <int kM>
std::shared_ptr<const NodeKernel> prepare_winograd(const Graph& graph, const Node& node) {
  return std::make_shared<WinogradKernel<kM>>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2));
}

}  // namespace

extern const Tactic kConvWinogradF2x2{"conv.winograd-f2x2", OpKind::Conv, winograd_rejects, prepare_winograd<2>};
extern const Tactic kConvWinogradF4x4{"conv.winograd-f4x4", OpKind::Conv, winograd_rejects, prepare_winograd<4>};

}  // namespace nnc::cpu
