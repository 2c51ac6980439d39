// ops/sgemm.h — single-precision matrix multiply for the reference kernels (Conv via im2col,
// MatMul, Gemm): C[M,N] = A[M,K] · B[K,N] (+ C when `accumulate`), all row-major with the
// given row strides (lda >= K, ldb >= N, ldc >= N).
//
// Cache-blocked and written so the compiler vectorises the inner loop; built for AVX-512, AVX2
// and plain x86-64, chosen at run time (function multiversioning). The tuned kernels of the fast
// CPU backend replace it; it only has to keep the reference runtime usable on real models.
#pragma once

#include <cstdint>

namespace nnc {

void sgemm(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C,
           int64_t ldc, bool accumulate);

}  // namespace nnc
