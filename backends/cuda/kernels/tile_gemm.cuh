// backends/cuda/kernels/tile_gemm.cuh — the three GEMM engines every matrix op runs on.
//
// A *problem* describes C[z] = A[z] (M x K) · B[z] (K x N) for z < batch without storing A or B:
// it is a small struct, passed by value, with
//     int M, N, K, batch;
//     __device__ A_t a(int z, int m, int k) const;   // element of A (0 outside is never asked)
//     __device__ B_t b(int z, int k, int n) const;
//     __device__ void store(int z, int m, int n, Acc acc) const;  // the epilogue and the write
// Convolution is a problem whose b() gathers the im2col matrix on the fly (implicit GEMM:
// no im2col buffer), MatMul and Gemm are problems over strided matrices, and QLinearConv is an
// 8-bit problem whose store() requantizes. The engines:
//   simt_gemm_kernel     f32 on CUDA cores: 64x64 tile per block of 256 threads, 4x4 per thread
//   mma_f16_gemm_kernel  Tensor Cores, f16 x f16 -> f32 (mma.m16n8k16): 64x64 tile, 4 warps,
//                        each warp 16 rows x 64 columns; A and B rounded to f16 in shared memory
//   mma_s8_gemm_kernel   Tensor Cores, 8-bit x s8 -> s32 (mma.m16n8k32): 64x64 tile, 4 warps
// Grids: x over N tiles, y over M tiles, z over the batch.
#pragma once

#include "backends/cuda/kernels/mma.cuh"

namespace nnc::cuda {

constexpr int kTileM = 64, kTileN = 64;
constexpr int kSimtThreads = 256, kMmaThreads = 128;

inline namespace NNC_KERNEL_WORLD {
template <class Problem>
__global__ void simt_gemm_kernel(Problem p) {
  constexpr int BK = 8;
  __shared__ float As[BK][kTileM];
  __shared__ float Bs[BK][kTileN];
  const int tid = int(threadIdx.x);
  const int z = int(blockIdx.z), m0 = int(blockIdx.y) * kTileM, n0 = int(blockIdx.x) * kTileN;
  const int tm = (tid / 16) * 4, tn = (tid % 16) * 4;
  float acc[4][4] = {};
  for (int k0 = 0; k0 < p.K; k0 += BK) {
    for (int e = tid; e < BK * kTileM; e += kSimtThreads) {
      const int kk = e / kTileM, mm = e % kTileM, m = m0 + mm, k = k0 + kk;
      As[kk][mm] = (m < p.M && k < p.K) ? p.a(z, m, k) : 0.0f;
    }
    for (int e = tid; e < BK * kTileN; e += kSimtThreads) {
      const int kk = e / kTileN, nn = e % kTileN, n = n0 + nn, k = k0 + kk;
      Bs[kk][nn] = (n < p.N && k < p.K) ? p.b(z, k, n) : 0.0f;
    }
    __syncthreads();
    for (int kk = 0; kk < BK; ++kk) {
      float a[4], b[4];
      for (int i = 0; i < 4; ++i) a[i] = As[kk][tm + i];
      for (int j = 0; j < 4; ++j) b[j] = Bs[kk][tn + j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const int m = m0 + tm + i, n = n0 + tn + j;
      if (m < p.M && n < p.N) p.store(z, m, n, acc[i][j]);
    }
}
}  // namespace NNC_KERNEL_WORLD

inline namespace NNC_KERNEL_WORLD {
template <class Problem>
__global__ void mma_f16_gemm_kernel(Problem p) {
  constexpr int BK = 16, kPad = 8;  // rows padded to 48 bytes: 4-byte aligned, fewer bank conflicts
  alignas(16) __shared__ uint16_t As[kTileM][BK + kPad];
  alignas(16) __shared__ uint16_t Bs[kTileN][BK + kPad];  // stored n-major: B's fragments pair along k
  const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
  const int z = int(blockIdx.z), m0 = int(blockIdx.y) * kTileM, n0 = int(blockIdx.x) * kTileN;
  const int r = warp * 16;  // this warp's first row in the tile
  float acc[8][4] = {};
  for (int k0 = 0; k0 < p.K; k0 += BK) {
    for (int e = tid; e < kTileM * BK; e += kMmaThreads) {
      const int mm = e / BK, kk = e % BK, m = m0 + mm, k = k0 + kk;
      As[mm][kk] = f16_from_f32((m < p.M && k < p.K) ? p.a(z, m, k) : 0.0f);
    }
    for (int e = tid; e < kTileN * BK; e += kMmaThreads) {
      const int kk = e / kTileN, nn = e % kTileN, n = n0 + nn, k = k0 + kk;
      Bs[nn][kk] = f16_from_f32((n < p.N && k < p.K) ? p.b(z, k, n) : 0.0f);
    }
    __syncthreads();
    const uint32_t a[4] = {pack_f16x2(As[r + g][2 * t], As[r + g][2 * t + 1]),
                           pack_f16x2(As[r + g + 8][2 * t], As[r + g + 8][2 * t + 1]),
                           pack_f16x2(As[r + g][2 * t + 8], As[r + g][2 * t + 9]),
                           pack_f16x2(As[r + g + 8][2 * t + 8], As[r + g + 8][2 * t + 9])};
    for (int nt = 0; nt < 8; ++nt) {
      const int n = nt * 8 + g;
      const uint32_t b[2] = {pack_f16x2(Bs[n][2 * t], Bs[n][2 * t + 1]), pack_f16x2(Bs[n][2 * t + 8], Bs[n][2 * t + 9])};
      mma_m16n8k16_f16(acc[nt], a, b, acc[nt]);
    }
    __syncthreads();
  }
  for (int nt = 0; nt < 8; ++nt)
    for (int i = 0; i < 4; ++i) {
      const int m = m0 + r + mma_layout::c_row(i, g), n = n0 + nt * 8 + mma_layout::c_col(i, t);
      if (m < p.M && n < p.N) p.store(z, m, n, acc[nt][i]);
    }
}
}  // namespace NNC_KERNEL_WORLD

// A holds signed 8-bit values (weights); B holds unsigned or signed ones as `b_unsigned` says.
// mma computes A-rows x B-columns with A's type first, so the tile is computed transposed:
// D^T = B^T · A^T puts B (the activations, possibly unsigned) in the instruction's A slot.
inline namespace NNC_KERNEL_WORLD {
template <class Problem, bool b_unsigned>
__global__ void mma_s8_gemm_kernel(Problem p) {
  constexpr int BK = 32, kPad = 16;
  alignas(16) __shared__ uint8_t Bt[kTileN][BK + kPad];  // B^T: n rows, k columns
  alignas(16) __shared__ uint8_t At[kTileM][BK + kPad];  // A, m rows, k columns (= (A^T)^T, col-major B slot)
  const int tid = int(threadIdx.x), warp = tid / 32, lane = tid % 32, g = lane / 4, t = lane % 4;
  const int z = int(blockIdx.z), m0 = int(blockIdx.y) * kTileM, n0 = int(blockIdx.x) * kTileN;
  const int r = warp * 16;  // this warp's first n (row of D^T) in the tile
  int32_t acc[8][4] = {};
  for (int k0 = 0; k0 < p.K; k0 += BK) {
    for (int e = tid; e < kTileM * BK; e += kMmaThreads) {
      const int mm = e / BK, kk = e % BK, m = m0 + mm, k = k0 + kk;
      At[mm][kk] = uint8_t((m < p.M && k < p.K) ? p.a(z, m, k) : 0);
    }
    for (int e = tid; e < kTileN * BK; e += kMmaThreads) {
      const int kk = e / kTileN, nn = e % kTileN, n = n0 + nn, k = k0 + kk;
      Bt[nn][kk] = uint8_t((n < p.N && k < p.K) ? p.b(z, k, n) : 0);
    }
    __syncthreads();
    const uint32_t a[4] = {load_u32(&Bt[r + g][4 * t]), load_u32(&Bt[r + g + 8][4 * t]),
                           load_u32(&Bt[r + g][4 * t + 16]), load_u32(&Bt[r + g + 8][4 * t + 16])};
    for (int mt = 0; mt < 8; ++mt) {
      const int m = mt * 8 + g;
      const uint32_t b[2] = {load_u32(&At[m][4 * t]), load_u32(&At[m][4 * t + 16])};
      mma_m16n8k32_8bit<b_unsigned>(acc[mt], a, b, acc[mt]);
    }
    __syncthreads();
  }
  for (int mt = 0; mt < 8; ++mt)
    for (int i = 0; i < 4; ++i) {
      const int n = n0 + r + mma_layout::c_row(i, g), m = m0 + mt * 8 + mma_layout::c_col(i, t);
      if (m < p.M && n < p.N) p.store(z, m, n, acc[mt][i]);
    }
}
}  // namespace NNC_KERNEL_WORLD

}  // namespace nnc::cuda
