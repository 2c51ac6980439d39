// backends/cpu/int8_gemm.cpp — see int8_gemm.h.
#include "backends/cpu/int8_gemm.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/thread_pool.h"

namespace nnc::cpu {
namespace {

using KernelFn = void (*)(int64_t depth4, const int8_t* a, const uint8_t* base, const int64_t* offsets, int32_t* c);

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void kernel_vnni(int64_t depth4, const int8_t* a,
                                                                      const uint8_t* base, const int64_t* offsets,
                                                                      int32_t* c) {
  __m512i acc[kInt8Mr][2];
#pragma GCC unroll 12
  for (int i = 0; i < kInt8Mr; ++i) acc[i][0] = acc[i][1] = _mm512_setzero_si512();
  for (int64_t k = 0; k < depth4; ++k) {
    const uint8_t* b = base + offsets[k];
    const __m512i x0 = _mm512_loadu_si512(b), x1 = _mm512_loadu_si512(b + 64);
#pragma GCC unroll 12
    for (int i = 0; i < kInt8Mr; ++i) {
      int32_t four;
      std::memcpy(&four, a + i * 4, 4);
      const __m512i w = _mm512_set1_epi32(four);
      acc[i][0] = _mm512_dpbusd_epi32(acc[i][0], x0, w);
      acc[i][1] = _mm512_dpbusd_epi32(acc[i][1], x1, w);
    }
    a += kInt8Mr * 4;
  }
#pragma GCC unroll 12
  for (int i = 0; i < kInt8Mr; ++i) {
    _mm512_storeu_si512(c + i * kInt8Nr, acc[i][0]);
    _mm512_storeu_si512(c + i * kInt8Nr + 16, acc[i][1]);
  }
}

// AVX2 without VNNI, exact: vpmaddubsw would saturate its 16-bit pair sums (255 · 127 · 2 >
// 32767), so bytes are widened to 16 bits and multiplied with vpmaddwd, which sums pairs into
// 32 bits. Each k-group of the tile is widened once into a 256-byte block; then each of the 12
// rows streams through the blocks with its 4 weights broadcast, 8 accumulators holding 32 pixels
// x 2 pair sums, added up at the end.
__attribute__((target("avx2"))) void kernel_avx2(int64_t depth4, const int8_t* a, const uint8_t* base,
                                                 const int64_t* offsets, int32_t* c) {
  thread_local std::vector<int16_t> widened;  // 128 values per k-group (unaligned loads)
  widened.resize(size_t(depth4 * 128));
  for (int64_t k = 0; k < depth4; ++k) {
    const __m128i* b = reinterpret_cast<const __m128i*>(base + offsets[k]);
    __m256i* out = reinterpret_cast<__m256i*>(widened.data() + k * 128);
    for (int j = 0; j < 8; ++j) _mm256_storeu_si256(out + j, _mm256_cvtepu8_epi16(_mm_loadu_si128(b + j)));
  }
  for (int64_t i = 0; i < kInt8Mr; ++i) {
    __m256i acc[8];
    for (__m256i& v : acc) v = _mm256_setzero_si256();
    for (int64_t k = 0; k < depth4; ++k) {
      int32_t four;
      std::memcpy(&four, a + (k * kInt8Mr + i) * 4, 4);
      const __m256i w = _mm256_cvtepi8_epi16(_mm_set1_epi32(four));  // w0 w1 w2 w3, four times
      const __m256i* x = reinterpret_cast<const __m256i*>(widened.data() + k * 128);
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_loadu_si256(x + j), w));
    }
    alignas(32) int32_t pairs[64];  // pixel p: pairs[2p] + pairs[2p + 1]
    for (int j = 0; j < 8; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(pairs) + j, acc[j]);
    for (int64_t p = 0; p < kInt8Nr; ++p) c[i * kInt8Nr + p] = pairs[2 * p] + pairs[2 * p + 1];
  }
}

void kernel_portable(int64_t depth4, const int8_t* a, const uint8_t* base, const int64_t* offsets, int32_t* c) {
  int32_t acc[kInt8Mr][kInt8Nr] = {};
  for (int64_t k = 0; k < depth4; ++k) {
    const uint8_t* b = base + offsets[k];
    for (int64_t i = 0; i < kInt8Mr; ++i)
      for (int64_t j = 0; j < kInt8Nr; ++j)
        for (int64_t q = 0; q < 4; ++q) acc[i][j] += int32_t(a[i * 4 + q]) * int32_t(b[j * 4 + q]);
    a += kInt8Mr * 4;
  }
  std::memcpy(c, acc, sizeof(acc));
}

KernelFn kernel() {
  if (cpu_info().vnni) return kernel_vnni;
  return cpu_info().isa != Isa::Portable ? kernel_avx2 : kernel_portable;
}

__attribute__((target("avx2"))) void interleave_avx2(const uint8_t* const rows[4], bool flip, uint8_t* out) {
  __m256i r0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[0]));
  __m256i r1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[1]));
  __m256i r2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[2]));
  __m256i r3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows[3]));
  if (flip) {
    const __m256i sign = _mm256_set1_epi8(char(0x80));
    r0 = _mm256_xor_si256(r0, sign), r1 = _mm256_xor_si256(r1, sign);
    r2 = _mm256_xor_si256(r2, sign), r3 = _mm256_xor_si256(r3, sign);
  }
  // Within each 128-bit lane: byte pairs (r0, r1) and (r2, r3), then pairs of pairs.
  const __m256i t0 = _mm256_unpacklo_epi8(r0, r1), t1 = _mm256_unpackhi_epi8(r0, r1);
  const __m256i t2 = _mm256_unpacklo_epi8(r2, r3), t3 = _mm256_unpackhi_epi8(r2, r3);
  const __m256i u0 = _mm256_unpacklo_epi16(t0, t2), u1 = _mm256_unpackhi_epi16(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi16(t1, t3), u3 = _mm256_unpackhi_epi16(t1, t3);
  // Low lanes hold columns 0-15, high lanes 16-31.
  __m256i* o = reinterpret_cast<__m256i*>(out);
  _mm256_storeu_si256(o + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
  _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
  _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
  _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
}

}  // namespace

void interleave_four_rows(const uint8_t* const rows[4], bool flip, uint8_t* out) {
  if (cpu_info().isa != Isa::Portable) return interleave_avx2(rows, flip, out);
  const uint8_t mask = flip ? 0x80 : 0;
  for (int64_t j = 0; j < kInt8Nr; ++j)
    for (int r = 0; r < 4; ++r) out[j * 4 + r] = rows[r][j] ^ mask;
}

const char* int8_kernel_name() {
  if (cpu_info().vnni) return "avx512-vnni 12x32";
  return cpu_info().isa != Isa::Portable ? "avx2 12x32" : "portable 12x32";
}

Int8PackedWeights pack_int8_weights(const int8_t* w, int64_t rows, int64_t depth) {
  Int8PackedWeights p;
  p.rows = rows, p.depth = depth, p.depth4 = (depth + 3) / 4;
  const int64_t panels = (rows + kInt8Mr - 1) / kInt8Mr;
  p.data.assign(size_t(panels * p.depth4 * kInt8Mr * 4), 0);
  p.row_sums.assign(size_t(rows), 0);
  for (int64_t m = 0; m < rows; ++m) {
    int8_t* panel = p.data.data() + (m / kInt8Mr) * p.depth4 * kInt8Mr * 4;
    for (int64_t k = 0; k < depth; ++k) {
      const int8_t v = w[m * depth + k];
      panel[(k / 4) * kInt8Mr * 4 + (m % kInt8Mr) * 4 + k % 4] = v;
      p.row_sums[size_t(m)] += v;
    }
  }
  return p;
}

void int8_gemm(const Int8PackedWeights& w, std::span<const Int8Tile> tiles, const Int8PanelSource& x,
               const Int8TileSink& sink) {
  const KernelFn run = kernel();
  const int64_t panel_bytes = w.depth4 * kInt8Nr * 4;
  const int64_t count = int64_t(tiles.size());
  const int64_t row_panels = (w.rows + kInt8Mr - 1) / kInt8Mr;
  // A task takes a few tiles whose X data stays in L2 while every weight panel passes over
  // them; at least two tasks per thread so small images still keep every core busy.
  constexpr int64_t kL2Budget = 256 << 10;
  int64_t per_task = std::clamp<int64_t>(kL2Budget / std::max<int64_t>(1, panel_bytes), 1, 16);
  per_task = std::min(per_task, std::max<int64_t>(1, count / (2 * thread_count())));
  // Waking the other threads costs more than a small GEMM (deep layers on 10x10 maps).
  const double macs = double(w.rows) * double(count * kInt8Nr) * double(w.depth4 * 4);
  if (macs < 4e6) per_task = std::max<int64_t>(count, 1);
  const int64_t tasks = (count + per_task - 1) / per_task;
  parallel_for(tasks, [&](int, int64_t begin, int64_t end) {
    std::vector<uint8_t> scratch(size_t(per_task * panel_bytes + 64));
    std::vector<const uint8_t*> bases(static_cast<size_t>(per_task));
    std::vector<const int64_t*> offsets(static_cast<size_t>(per_task));
    alignas(64) int32_t tile[kInt8Mr * kInt8Nr];
    for (int64_t t = begin; t < end; ++t) {
      const int64_t first = t * per_task, n = std::min(per_task, count - first);
      for (int64_t p = 0; p < n; ++p)
        bases[size_t(p)] = x.panel(tiles[size_t(first + p)], scratch.data() + p * panel_bytes, offsets[size_t(p)]);
      for (int64_t mp = 0; mp < row_panels; ++mp) {
        const int8_t* a = w.data.data() + mp * w.depth4 * kInt8Mr * 4;
        const int64_t m0 = mp * kInt8Mr, rows = std::min(kInt8Mr, w.rows - m0);
        for (int64_t p = 0; p < n; ++p) {
          const Int8Tile& c = tiles[size_t(first + p)];
          run(w.depth4, a, bases[size_t(p)], offsets[size_t(p)], tile);
          sink(m0, rows, c.n0, c.width, tile);
        }
      }
    }
  });
}

}  // namespace nnc::cpu
