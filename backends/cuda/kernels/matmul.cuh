// backends/cuda/kernels/matmul.cuh — MatMul (NumPy batch broadcasting, nnc's fused bias) and
// Gemm (transA, transB, alpha, beta, C broadcast to [M, N]) as GEMM problems over strided views.
#pragma once

#include "backends/cuda/kernels/epilogue.cuh"
#include "backends/cuda/kernels/tile_gemm.cuh"

namespace nnc::cuda {

constexpr int kMaxBatchRank = 6;

struct MatMulProblem {
  int M = 0, N = 0, K = 0, batch = 1;
  const float* A = nullptr;
  const float* B = nullptr;
  float* Y = nullptr;
  long long a_row = 0, a_col = 0, b_row = 0, b_col = 0;  // element strides within one matrix
  // The batch: its dims, and per dim the stride of A's and B's matrices (0 where broadcast).
  int batch_rank = 0;
  int batch_dims[kMaxBatchRank] = {};
  long long a_batch_stride[kMaxBatchRank] = {}, b_batch_stride[kMaxBatchRank] = {};
  float alpha = 1.0f;
  // Added before the activation: bias[n] (MatMul's fused bias), or beta · C[m·c_row + n·c_col] (Gemm).
  const float* bias = nullptr;
  const float* C = nullptr;
  long long c_row = 0, c_col = 0;
  float beta = 1.0f;
  FloatEpilogue epilogue;

  __device__ __forceinline__ long long a_offset(int z) const {
    long long off = 0;
    for (int d = batch_rank - 1; d >= 0; --d) off += (z % batch_dims[d]) * a_batch_stride[d], z /= batch_dims[d];
    return off;
  }
  __device__ __forceinline__ long long b_offset(int z) const {
    long long off = 0;
    for (int d = batch_rank - 1; d >= 0; --d) off += (z % batch_dims[d]) * b_batch_stride[d], z /= batch_dims[d];
    return off;
  }
  __device__ __forceinline__ float a(int z, int m, int k) const { return A[a_offset(z) + m * a_row + k * a_col]; }
  __device__ __forceinline__ float b(int z, int k, int n) const { return B[b_offset(z) + k * b_row + n * b_col]; }
  __device__ __forceinline__ void store(int z, int m, int n, float acc) const {
    float v = alpha * acc;
    if (bias) v += bias[n];
    if (C) v += beta * C[m * c_row + n * c_col];
    const long long out = (static_cast<long long>(z) * M + m) * N + n;
    Y[out] = finish(epilogue, v, out);
  }
};

}  // namespace nnc::cuda
