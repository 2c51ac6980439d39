// backends/cpu/qconv_tactic.cpp — QLinearConv (with nnc's fused epilogue) on the u8 x s8 GEMM
// of backends/cpu/int8_gemm.h:
//
//   acc[m, p] = sum_k W[m, k] · col[k, p] − x_zero · sum_k W[m, k] + bias[m]     (int32, exact)
//   y[m, p]   = requantize(acc, residual[m, p])                                 (ops/requantize.h)
//
// The column matrix never exists: the image is re-laid once per run with four channels
// interleaved per pixel and the borders filled with the zero point, so that for 32 neighbouring
// pixels of an output row each group of 4 k is 128 contiguous bytes the GEMM reads in place
// (strided convs and rows shorter than a tile copy 4 bytes per pixel into a packed tile). Each
// finished 12 x 32 tile is requantized while it is in cache, through the same Requantizer as the
// reference kernel, so the results are bit-identical.
#include <immintrin.h>

// GCC 12's AVX-512 intrinsic headers start conversions from _mm512_undefined_ps(), which it then
// reports as maybe-uninitialized: a known false positive of the headers, not of this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/int8_gemm.h"
#include "backends/cpu/requantize_rows.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/requantize.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

struct Geometry {
  int64_t channels, height, width, kernel_h, kernel_w, out_h, out_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
};

Geometry geometry_of(const Node& node, const Dims& x, const Dims& w) {
  const WindowGeometry g = window_geometry(node, {x[2], x[3]}, {w[2], w[3]}, false);
  return Geometry{w[1],        x[2],        x[3],          w[2],          w[3],           g.output[0],     g.output[1],
                  g.stride[0], g.stride[1], g.dilation[0], g.dilation[1], g.pad_begin[0], g.pad_begin[1]};
}

// The input of one image re-laid as [ceil(C/4)][Hp][Wp][4] bytes: four channels interleaved
// per pixel, bordered with the zero point (s8 flipped to u8). Taking k in the order
// (c/4, kh, kw, c%4), a group of 4 k for 32 neighbouring output pixels of a stride-1 row is then
// 128 contiguous bytes of it: the GEMM reads them in place, nothing is packed per tile.
struct Blocked {
  int64_t hp, wp;       // padded height and width
  int64_t channel4;     // ceil(C / 4)
  int64_t bytes() const { return channel4 * hp * wp * 4; }
};

Blocked blocked_of(const Geometry& g) {
  Blocked b;
  b.hp = std::max(g.height + g.pad_h, (g.out_h - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1);
  b.wp = std::max(g.width + g.pad_w, (g.out_w - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1);
  b.channel4 = (g.channels + 3) / 4;
  return b;
}

// Fills `out` (b.bytes() + slack) from NCHW bytes: padding first, then four channel rows at a
// time interleaved into pixels.
void build_blocked(const uint8_t* x, const Geometry& g, const Blocked& b, uint8_t zero, bool flip, uint8_t* out) {
  const uint8_t pad = flip ? uint8_t(zero ^ 0x80) : zero;
  parallel_for(b.channel4, [&](int, int64_t begin, int64_t end) {
    for (int64_t c4 = begin; c4 < end; ++c4) {
      uint8_t* plane = out + c4 * b.hp * b.wp * 4;
      // The border only: rows above and below the image, columns left and right of it.
      const int64_t row_bytes = b.wp * 4, left = g.pad_w * 4, right = (b.wp - g.pad_w - g.width) * 4;
      std::memset(plane, pad, size_t(g.pad_h * row_bytes));
      std::memset(plane + (g.pad_h + g.height) * row_bytes, pad, size_t((b.hp - g.pad_h - g.height) * row_bytes));
      for (int64_t h = 0; h < g.height; ++h) {
        uint8_t* line = plane + (g.pad_h + h) * row_bytes;
        std::memset(line, pad, size_t(left));
        std::memset(line + left + g.width * 4, pad, size_t(right));
      }
      for (int64_t h = 0; h < g.height; ++h) {
        const uint8_t* rows[4];
        for (int r = 0; r < 4; ++r) {
          // Channels past C have zero weights: any bytes will do; channel 0's row is at hand.
          const int64_t c = std::min(c4 * 4 + r, g.channels - 1);
          rows[r] = x + (c * g.height + h) * g.width;
        }
        uint8_t* dst = plane + ((h + g.pad_h) * b.wp + g.pad_w) * 4;
        int64_t w = 0;
        for (; w + kInt8Nr <= g.width; w += kInt8Nr) {
          const uint8_t* chunk[4] = {rows[0] + w, rows[1] + w, rows[2] + w, rows[3] + w};
          interleave_four_rows(chunk, flip, dst + w * 4);
        }
        const uint8_t mask = flip ? 0x80 : 0;
        for (; w < g.width; ++w)
          for (int r = 0; r < 4; ++r) dst[w * 4 + r] = rows[r][w] ^ mask;
      }
    }
  }, /*min_chunk=*/std::max<int64_t>(1, (256 << 10) / std::max<int64_t>(1, b.hp * b.wp * 4)));  // small maps: one thread
}

// Tiles of one image's output: 32 pixels of one output row at a time when rows are long enough
// for that to waste little (the GEMM then reads the blocked image in place), else runs of 32
// pixels regardless of rows (packed per tile).
std::vector<Int8Tile> tiles_of(const Geometry& g) {
  std::vector<Int8Tile> tiles;
  const int64_t per_row = (g.out_w + kInt8Nr - 1) / kInt8Nr;
  const bool by_row = g.stride_w == 1 && 4 * g.out_w >= 3 * per_row * kInt8Nr;
  if (by_row) {
    for (int64_t oh = 0; oh < g.out_h; ++oh)
      for (int64_t ow = 0; ow < g.out_w; ow += kInt8Nr) tiles.push_back({oh * g.out_w + ow, std::min(kInt8Nr, g.out_w - ow)});
  } else {
    const int64_t size = g.out_h * g.out_w;
    for (int64_t n0 = 0; n0 < size; n0 += kInt8Nr) tiles.push_back({n0, std::min(kInt8Nr, size - n0)});
  }
  return tiles;
}

class BlockedSource final : public Int8PanelSource {
 public:
  BlockedSource(const uint8_t* blocked, const Geometry& g, const Blocked& b, const std::vector<int64_t>& group_offsets,
                const std::vector<int64_t>& packed_offsets)
      : x_(blocked), g_(g), b_(b), groups_(group_offsets), packed_(packed_offsets) {}

  const uint8_t* panel(const Int8Tile& tile, uint8_t* scratch, const int64_t*& offsets) const override {
    const int64_t oh = tile.n0 / g_.out_w, ow = tile.n0 % g_.out_w;
    if (g_.stride_w == 1 && ow + tile.width <= g_.out_w) {  // one output row: read in place
      offsets = groups_.data();
      return x_ + pixel(oh, ow);
    }
    int64_t pixels[kInt8Nr];
    for (int64_t j = 0, h = oh, w = ow; j < tile.width; ++j) {
      pixels[j] = pixel(h, w);
      if (++w == g_.out_w) w = 0, ++h;
    }
    for (size_t k = 0; k < groups_.size(); ++k) {
      const uint8_t* group = x_ + groups_[k];
      uint8_t* dst = scratch + k * kInt8Nr * 4;
      for (int64_t j = 0; j < tile.width; ++j) std::memcpy(dst + j * 4, group + pixels[j], 4);
    }
    offsets = packed_.data();
    return scratch;
  }

 private:
  int64_t pixel(int64_t oh, int64_t ow) const { return (oh * g_.stride_h * b_.wp + ow * g_.stride_w) * 4; }

  const uint8_t* x_;
  Geometry g_;
  Blocked b_;
  const std::vector<int64_t>& groups_;
  const std::vector<int64_t>& packed_;
};

class QConvKernel final : public NodeKernel {
 public:
  QConvKernel(const Graph& graph, const Node& node) {
    const Tensor& w = *constant_input(graph, node, 3);
    const Dims& wd = w.dims();
    maps_ = wd[0];
    const TensorType& x = graph.type(node.inputs[0]);
    const Geometry g = geometry_of(node, x.shape.concrete(), wd);
    blocked_ = blocked_of(g);
    tiles_ = tiles_of(g);
    // Weights in the blocked image's k order (c/4, kh, kw, c%4), zero for channels past C.
    const int64_t taps = g.kernel_h * g.kernel_w, depth = blocked_.channel4 * taps * 4;
    std::vector<int8_t> reordered(size_t(maps_ * depth), 0);
    for (int64_t m = 0; m < maps_; ++m)
      for (int64_t c = 0; c < g.channels; ++c)
        for (int64_t t = 0; t < taps; ++t)
          reordered[size_t(m * depth + ((c / 4) * taps + t) * 4 + c % 4)] = w.data<int8_t>()[(m * g.channels + c) * taps + t];
    weights_ = pack_int8_weights(reordered.data(), maps_, depth);
    for (int64_t c4 = 0; c4 < blocked_.channel4; ++c4)
      for (int64_t kh = 0; kh < g.kernel_h; ++kh)
        for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
          group_offsets_.push_back(((c4 * blocked_.hp + kh * g.dilation_h) * blocked_.wp + kw * g.dilation_w) * 4);
          packed_offsets_.push_back(int64_t(packed_offsets_.size()) * kInt8Nr * 4);
        }
    flip_ = x.dtype == DType::I8;
    x_zero_raw_ = uint8_t(constant_input(graph, node, 2)->get_int(0));
    const int32_t x_zero = int32_t(constant_input(graph, node, 2)->get_int(0)) + (flip_ ? 128 : 0);
    const Tensor* bias = constant_input(graph, node, 8);
    // Saturated: only a bias within 2^24 of the int32 limits (no real model's) can leave the
    // range, and there the reference kernel, exact in 64 bits, differs and wins the tuner's
    // check (found by tests/fuzz).
    for (int64_t m = 0; m < maps_; ++m) {
      const int64_t folded = (bias ? bias->get_int(m) : 0) - int64_t(x_zero) * weights_.row_sums[size_t(m)];
      bias_.push_back(int32_t(std::clamp<int64_t>(folded, INT32_MIN, INT32_MAX)));
    }
    rows_ = RowRequantizer::of_qconv(graph, node);
  }

  std::string_view tactic() const override { return "qconv.vnni-gemm"; }
  int64_t held_bytes() const override { return weights_.bytes(); }

  void run(KernelContext& k) const override {
    const Tensor& x = k.in(0);
    Tensor& y = k.out(0);
    const Geometry g = geometry_of(k.node, x.dims(), k.in(3).dims());
    const int64_t batch = x.dims()[0], in_size = g.channels * g.height * g.width, out_size = g.out_h * g.out_w;
    const uint8_t* residual = k.has_input(9) ? reinterpret_cast<const uint8_t*>(k.in(9).bytes()) : nullptr;
    uint8_t* out = reinterpret_cast<uint8_t*>(y.bytes());
    // The blocked image, reused across nodes and runs by this thread (slack: a partial tile
    // reads past its row, at most one tile's width).
    thread_local std::vector<uint8_t> blocked;
    blocked.resize(size_t(blocked_.bytes() + kInt8Nr * 4 * g.stride_w + 64));
    for (int64_t b = 0; b < batch; ++b) {
      build_blocked(reinterpret_cast<const uint8_t*>(x.bytes()) + b * in_size, g, blocked_, x_zero_raw_, flip_,
                    blocked.data());
      const BlockedSource source(blocked.data(), g, blocked_, group_offsets_, packed_offsets_);
      const int64_t image_offset = b * maps_ * out_size;
      int8_gemm(weights_, tiles_, source, [&](int64_t m0, int64_t rows, int64_t n0, int64_t cols, const int32_t* tile) {
        const int64_t at = image_offset + m0 * out_size + n0;
        rows_.run(bias_.data(), m0, rows, tile, kInt8Nr, residual ? residual + at : nullptr, out + at, out_size, cols);
      });
    }
  }

 private:
  Int8PackedWeights weights_;
  Blocked blocked_;
  std::vector<Int8Tile> tiles_;
  std::vector<int64_t> group_offsets_;   // per group of 4 k: where it starts in the blocked image
  std::vector<int64_t> packed_offsets_;  // the same in a packed tile: k · 128
  int64_t maps_ = 0;
  bool flip_ = false;
  uint8_t x_zero_raw_ = 0;
  std::vector<int32_t> bias_;  // bias − x_zero · sum_k W  (the zero point's share, precomputed)
  RowRequantizer rows_;
};

std::string qconv_rejects(const Graph& graph, const Node& node) {
  if (std::string why = qconv_constants_rejects(graph, node); !why.empty()) return why;
  if (attr_int(node, "group") != 1) return "grouped (the GEMM runs group 1)";
  const Dims wd = constant_input(graph, node, 3)->dims();
  if (wd[1] * wd[2] * wd[3] > (int64_t{1} << 20)) return "depth too large for int32 accumulation";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_qconv(const Graph& graph, const Node& node) {
  return std::make_shared<QConvKernel>(graph, node);
}

}  // namespace

extern const Tactic kQConvVnniGemm{"qconv.vnni-gemm", OpKind::QLinearConv, qconv_rejects, prepare_qconv};

}  // namespace nnc::cpu
