// backends/cuda/kernels/dialect.cuh — what every kernel file includes first.
//
// Kernels are written in plain CUDA C++ (threadIdx, __shared__, __syncthreads, __shfl_xor_sync)
// and compiled twice: by nvcc for sm_80/sm_90 (backends/cuda/native_kernels.cu), and by the host
// compiler against the emulator (backends/cuda/emu) so that CI checks them without a GPU. This
// header picks the world and adds the few helpers both need: the lane index and f16 conversions.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#else
#include <math.h>

#include <cmath>
#include <cstring>

#include "backends/cuda/emu/emulator.h"
namespace nnc::cuda {
using std::isfinite;  // CUDA's device isfinite, for host code
}
#endif

// Kernels (the __global__ functions) are declared inside `inline namespace NNC_KERNEL_WORLD`:
// nvcc gives every kernel a host-side launch stub with the kernel's own name, and the emulator's
// host copy of the same kernel must not be mistaken for it when both are linked into one nnc.
#if defined(__CUDACC__)
#define NNC_KERNEL_WORLD native_world
#else
#define NNC_KERNEL_WORLD emulated_world
#endif

namespace nnc::cuda {

__device__ __forceinline__ unsigned thread_in_block() {
  return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
}
__device__ __forceinline__ unsigned lane_index() { return thread_in_block() % 32; }
__device__ __forceinline__ unsigned warp_index() { return thread_in_block() / 32; }

// IEEE binary16 kept as its 16 bits; conversions round to nearest even, as __float2half_rn does.
__device__ __forceinline__ uint16_t f16_from_f32(float f) {
#if defined(__CUDACC__)
  return __half_as_ushort(__float2half_rn(f));
#else
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t magnitude = x & 0x7fffffffu;
  if (magnitude > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN stays NaN
  if (magnitude >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 rounds to infinity
  if (magnitude < 0x38800000u) {                                     // below 2^-14: subnormal
    float v;
    std::memcpy(&v, &magnitude, 4);
    return uint16_t(sign | uint32_t(nearbyintf(v * 16777216.0f)));  // units of 2^-24, exact scaling
  }
  uint32_t h = ((magnitude >> 23) - 112u) << 10 | ((magnitude >> 13) & 0x3ffu);
  const uint32_t rest = magnitude & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry moves into the exponent
  return uint16_t(sign | h);
#endif
}

__device__ __forceinline__ float f32_from_f16(uint16_t h) {
#if defined(__CUDACC__)
  return __half2float(__ushort_as_half(h));
#else
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0) {
    const float v = float(mantissa) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  const uint32_t bits = exponent == 31 ? (sign | 0x7f800000u | (mantissa << 13))
                                       : (sign | ((exponent + 112u) << 23) | (mantissa << 13));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
#endif
}

// f32 arithmetic exactly as written: nvcc contracts a * b + c into one FMA by default, which
// rounds once instead of twice; the integer requantization must round like the CPU reference.
__device__ __forceinline__ float mul_rn(float a, float b) {
#if defined(__CUDACC__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
__device__ __forceinline__ float add_rn(float a, float b) {
#if defined(__CUDACC__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

}  // namespace nnc::cuda

namespace nnc::cuda {

// Four consecutive bytes as one 32-bit register (little endian), from 4-byte-aligned storage.
__device__ __forceinline__ uint32_t load_u32(const uint8_t* p) {
#if defined(__CUDACC__)
  return *reinterpret_cast<const uint32_t*>(p);
#else
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}
__device__ __forceinline__ uint32_t pack_f16x2(uint16_t low, uint16_t high) { return uint32_t(low) | uint32_t(high) << 16; }

}  // namespace nnc::cuda
