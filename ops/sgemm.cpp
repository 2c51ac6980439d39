// ops/sgemm.cpp — see sgemm.h.
//
// Blocking: a panel of B (kKc rows × kNc columns, 256 KiB) stays in L2 while four rows of A
// stream past it; each loaded element of B feeds four multiply-adds (four rows of C at once),
// which is what keeps the loop compute-bound rather than load-bound.
#include "ops/sgemm.h"

#include <algorithm>
#include <cstring>

namespace nnc {
namespace {

constexpr int64_t kKc = 128;  // rows of B per panel
constexpr int64_t kNc = 512;  // columns of B per panel

// C[rows, j0:j1] += A[rows, k0:k1] · B[k0:k1, j0:j1] for up to four rows.
__attribute__((target_clones("avx512f", "avx2,fma", "default")))
void panel(int64_t rows, int64_t k0, int64_t k1, int64_t j0, int64_t j1, const float* A, int64_t lda,
           const float* B, int64_t ldb, float* C, int64_t ldc) {
  const int64_t width = j1 - j0;
  if (rows == 4) {
    float* c0 = C + j0;
    float* c1 = C + ldc + j0;
    float* c2 = C + 2 * ldc + j0;
    float* c3 = C + 3 * ldc + j0;
    for (int64_t k = k0; k < k1; ++k) {
      const float* b = B + k * ldb + j0;
      const float a0 = A[k], a1 = A[lda + k], a2 = A[2 * lda + k], a3 = A[3 * lda + k];
      for (int64_t j = 0; j < width; ++j) {
        const float bj = b[j];
        c0[j] += a0 * bj;
        c1[j] += a1 * bj;
        c2[j] += a2 * bj;
        c3[j] += a3 * bj;
      }
    }
    return;
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* c = C + r * ldc + j0;
    for (int64_t k = k0; k < k1; ++k) {
      const float* b = B + k * ldb + j0;
      const float a = A[r * lda + k];
      for (int64_t j = 0; j < width; ++j) c[j] += a * b[j];
    }
  }
}

}  // namespace

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
           int64_t ldc, bool accumulate) {
  // An empty C may come with a null pointer, which memset may not be given even for 0 bytes
  // (found by tests/fuzz: a ConvTranspose with an empty input).
  if (M <= 0 || N <= 0) return;
  if (!accumulate)
    for (int64_t i = 0; i < M; ++i) std::memset(C + i * ldc, 0, size_t(N) * sizeof(float));
  for (int64_t j0 = 0; j0 < N; j0 += kNc) {
    const int64_t j1 = std::min(N, j0 + kNc);
    for (int64_t k0 = 0; k0 < K; k0 += kKc) {
      const int64_t k1 = std::min(K, k0 + kKc);
      for (int64_t i = 0; i < M; i += 4)
        panel(std::min<int64_t>(4, M - i), k0, k1, j0, j1, A + i * lda, lda, B, ldb, C + i * ldc, ldc);
    }
  }
}

}  // namespace nnc
