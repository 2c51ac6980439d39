// backends/cpu/micro_kernels.cpp — see micro_kernels.h.
//
// Each kernel keeps the whole C tile in registers for the full K loop: AVX-512 12x32 is 24 of
// the 32 zmm registers as accumulators, two for the B row, one for the broadcast A value; per k
// it issues 2 loads, 12 broadcasts and 24 FMAs, so the FMA units, not memory, set the pace. The
// loops over i are fully unrolled (the register allocator needs constant indices). An 8x32
// variant of the same template serves GEMMs whose M is a multiple of 8 but not of 12.
#include "backends/cpu/micro_kernels.h"

#include <immintrin.h>

#include "backends/cpu/cpu_info.h"

namespace nnc::cpu {
namespace {

template <int kMr>
__attribute__((target("avx512f,fma"))) void kernel_avx512_x32(int64_t kc, const float* a, const float* b, float* c,
                                                              int64_t ldc, bool accumulate) {
  __m512 lo[kMr], hi[kMr];
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
#pragma GCC unroll 12
    for (int i = 0; i < kMr; ++i) {
      const __m512 ai = _mm512_set1_ps(a[i]);
      lo[i] = _mm512_fmadd_ps(ai, b0, lo[i]);
      hi[i] = _mm512_fmadd_ps(ai, b1, hi[i]);
    }
    a += kMr;
    b += 32;
  }
#pragma GCC unroll 12
  for (int i = 0; i < kMr; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      lo[i] = _mm512_add_ps(lo[i], _mm512_loadu_ps(row));
      hi[i] = _mm512_add_ps(hi[i], _mm512_loadu_ps(row + 16));
    }
    _mm512_storeu_ps(row, lo[i]);
    _mm512_storeu_ps(row + 16, hi[i]);
  }
}

__attribute__((target("avx2,fma"))) void kernel_avx2_6x16(int64_t kc, const float* a, const float* b, float* c,
                                                          int64_t ldc, bool accumulate) {
  constexpr int kMr = 6;
  __m256 lo[kMr], hi[kMr];
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (int i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      lo[i] = _mm256_fmadd_ps(ai, b0, lo[i]);
      hi[i] = _mm256_fmadd_ps(ai, b1, hi[i]);
    }
    a += kMr;
    b += 16;
  }
#pragma GCC unroll 6
  for (int i = 0; i < kMr; ++i) {
    float* row = c + i * ldc;
    if (accumulate) {
      lo[i] = _mm256_add_ps(lo[i], _mm256_loadu_ps(row));
      hi[i] = _mm256_add_ps(hi[i], _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, lo[i]);
    _mm256_storeu_ps(row + 8, hi[i]);
  }
}

// Plain C++ the compiler vectorises with whatever the baseline ISA offers (SSE2 on x86-64).
void kernel_portable_4x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
  constexpr int kMr = 4, kNr = 16;
  float acc[kMr][kNr] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < kMr; ++i)
      for (int j = 0; j < kNr; ++j) acc[i][j] += a[i] * b[j];
    a += kMr;
    b += kNr;
  }
  for (int i = 0; i < kMr; ++i)
    for (int j = 0; j < kNr; ++j) c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

}  // namespace

MicroKernel micro_kernel_for(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return {12, 32, kernel_avx512_x32<12>, "avx512 12x32"};
    case Isa::Avx2Fma: return {6, 16, kernel_avx2_6x16, "avx2 6x16"};
    case Isa::Portable: break;
  }
  return {4, 16, kernel_portable_4x16, "portable 4x16"};
}

const MicroKernel& micro_kernel_for_rows(int64_t rows) {
  // AVX-512 also has an 8x32 tile: fewer accumulators (16 of 32 registers), slightly less
  // efficient per FMA, but 16 or 40 rows fill it exactly where 12x32 would pad 16 rows to 24.
  static const MicroKernel narrow{8, 32, kernel_avx512_x32<8>, "avx512 8x32"};
  const MicroKernel& wide = micro_kernel();
  if (cpu_info().isa != Isa::Avx512) return wide;
  const double wide_cost = double((rows + 11) / 12 * 12), narrow_cost = double((rows + 7) / 8 * 8) * 1.1;
  return narrow_cost < wide_cost ? narrow : wide;
}

const MicroKernel& micro_kernel() {
  static const MicroKernel kernel = micro_kernel_for(cpu_info().isa);
  return kernel;
}

}  // namespace nnc::cpu
