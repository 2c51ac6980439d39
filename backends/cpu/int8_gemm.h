// backends/cpu/int8_gemm.h — the u8 x s8 GEMM the INT8 convolutions run on:
//
//   C[m, n] = sum_k W[m, k] · X[k, n]       W s8 (weights), X u8 (activations), C int32
//
// On AVX-512 VNNI one vpdpbusd multiplies 16 x 4 byte pairs and adds each group of four into an
// int32 lane: four times the multiply-adds of an f32 FMA per instruction. The micro-kernel keeps
// a 12 x 32 tile of C in 24 zmm registers; per step of 4 k it loads 32 columns x 4 bytes of X
// (two zmm) and broadcasts 4 weight bytes per row. Operands are packed in groups of 4 k:
//   weights  [panel of 12 rows][k / 4][row][4]   (packed once, rows and k padded with zeros)
//   X        [k / 4][column (32)][4]             (packed per 32 columns by the caller's source)
// Without VNNI an AVX2 kernel (bytes widened to 16 bits, vpmaddwd: exact, a quarter of the rate)
// or a portable one computes the same integers.
//
// Asymmetric activations: with X = x − x_zero, sum_k W·(x − x_zero) = sum_k W·x − x_zero·sum_k W,
// so the kernel multiplies the raw u8 values and the caller folds −x_zero·row_sums[m] into its
// bias. s8 activations become u8 by flipping the sign bit (x + 128), and their zero point by +128.
// Padding (conv borders, k beyond K) must be packed as the zero point for the same reason.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace nnc::cpu {

constexpr int64_t kInt8Mr = 12;  // rows of C per micro-tile
constexpr int64_t kInt8Nr = 32;  // columns of C per micro-tile

struct Int8PackedWeights {
  int64_t rows = 0, depth = 0, depth4 = 0;  // M, K, ceil(K / 4)
  std::vector<int8_t> data;
  std::vector<int32_t> row_sums;             // sum_k W[m, k]
  int64_t bytes() const { return int64_t(data.size() + row_sums.size() * sizeof(int32_t)); }
};
// `w` row-major [rows, depth]; `depth` already counts whatever padding the caller's k order has.
Int8PackedWeights pack_int8_weights(const int8_t* w, int64_t rows, int64_t depth);

// One tile of columns: C[:, n0 .. n0 + width), width <= kInt8Nr.
struct Int8Tile {
  int64_t n0, width;
};

// Supplies X a tile of kInt8Nr columns at a time. The kernel reads group k of the tile (32
// columns x 4 bytes, column-major) at base + offsets[k]: a source whose data already has that
// layout returns a pointer into it (no copy); otherwise it packs the tile into `scratch`
// (depth4 x 128 bytes) and returns it with offsets k · 128. Columns past `width` may hold
// anything.
class Int8PanelSource {
 public:
  virtual ~Int8PanelSource() = default;
  virtual const uint8_t* panel(const Int8Tile& tile, uint8_t* scratch, const int64_t*& offsets) const = 0;
};

// Receives each finished tile: C[m0 + i, n0 + j] = tile[i * kInt8Nr + j] for i < rows, j < cols.
using Int8TileSink = std::function<void(int64_t m0, int64_t rows, int64_t n0, int64_t cols, const int32_t* tile)>;

// Computes C = W · X over `tiles` on the shared thread pool, handing each tile to `sink` (which
// runs on the computing thread; tiles never overlap).
void int8_gemm(const Int8PackedWeights& w, std::span<const Int8Tile> tiles, const Int8PanelSource& x,
               const Int8TileSink& sink);

// Interleaves four rows of 32 bytes (r[0..3][j]) into the packed layout out[j * 4 + r], flipping
// every byte's sign bit when `flip` (s8 -> u8). A building block for sources.
void interleave_four_rows(const uint8_t* const rows[4], bool flip, uint8_t* out);

// The name of the micro-kernel in use ("avx512-vnni 12x32" or "portable 12x32").
const char* int8_kernel_name();

}  // namespace nnc::cpu
