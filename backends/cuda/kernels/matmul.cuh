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

// QLinearMatMul with a constant, symmetric s8 B ([K, N], per-tensor or per-column scales):
// Y = requantize(Σ_k (A − a_zero) · B) for every row of A (its leading dims flattened). The
// Tensor-Core engine multiplies its signed operand by the other, so the problem is posed
// transposed: the engine's m is Y's column n (B's column), its n is Y's row.
template <class AType, class YType>
struct QMatMulProblem {
  int M = 0, N = 0, K = 0, batch = 1;  // the engine's view: M = columns of Y, N = rows of Y
  const AType* A = nullptr;             // [rows, K]
  const int8_t* B = nullptr;            // [K, columns]
  const int32_t* column_sums = nullptr;  // Σ_k B[k][n]
  YType* Y = nullptr;                   // [rows, columns]
  int32_t a_zero = 0;
  // y = clamp(nearbyint(acc · scale_product[n] / y_scale) + y_zero), in double as the reference
  const double* scale_product = nullptr;  // a_scale · b_scale[n], [1 or columns]
  bool per_column = false;
  double y_scale = 1, y_zero = 0, y_low = 0, y_high = 255;

  __device__ __forceinline__ int32_t a(int, int m, int k) const { return B[static_cast<long long>(k) * M + m]; }
  __device__ __forceinline__ int32_t b(int, int k, int n) const { return int32_t(A[static_cast<long long>(n) * K + k]); }
  __device__ __forceinline__ void store(int, int m, int n, int32_t acc) const {
    const int32_t total = acc - a_zero * column_sums[m];
    double q = nearbyint(double(total) * scale_product[per_column ? m : 0] / y_scale) + y_zero;
    q = q < y_low ? y_low : (q > y_high ? y_high : q);
    Y[static_cast<long long>(n) * M + m] = YType(q);
  }
};

}  // namespace nnc::cuda
