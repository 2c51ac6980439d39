// backends/cuda/kernels/mma.cuh — the two Tensor-Core instructions nnc uses, as functions.
//
// mma.sync is a warp-wide instruction: the 32 lanes together hold the A (16 x K), B (K x 8) and
// C/D (16 x 8) tiles, each lane a fixed scatter of elements (its "fragment"). With
//   g = lane / 4 (groupID), t = lane % 4 (threadID_in_group)
// the PTX ISA (section "Matrix Fragments for mma.m16n8k16 / m16n8k32") places them so:
//
//   m16n8k16, f16 in, f32 accumulate; registers hold two halves each, element i in half i % 2:
//     A a0..a7 (4 regs): row g + 8 * ((i / 2) % 2), col 2t + i % 2 + 8 * (i >= 4)
//     B b0..b3 (2 regs): row (k) 2t + i % 2 + 8 * (i >= 2), col g
//   m16n8k32, 8-bit in, s32 accumulate; registers hold four bytes each, element i in byte i % 4:
//     A a0..a15 (4 regs): row g + 8 * ((i / 4) % 2), col 4t + i % 4 + 16 * (i >= 8)
//     B b0..b7  (2 regs): row (k) 4t + i % 4 + 16 * (i >= 4), col g
//   C/D c0..c3, both shapes: row g + 8 * (i >= 2), col 2t + i % 2
//
// On the GPU these are the real instructions (inline PTX, sm_80+). In the emulator every lane
// posts its fragment, the tiles are rebuilt from those formulas, and each lane computes its own
// four accumulators: a kernel that packs fragments wrongly fails its emulated test.
#pragma once

#include "backends/cuda/kernels/dialect.cuh"

namespace nnc::cuda {

namespace mma_layout {
__device__ __forceinline__ int a16_row(int i, int g) { return g + 8 * ((i / 2) % 2); }
__device__ __forceinline__ int a16_col(int i, int t) { return 2 * t + i % 2 + 8 * (i >= 4); }
__device__ __forceinline__ int b16_row(int i, int t) { return 2 * t + i % 2 + 8 * (i >= 2); }
__device__ __forceinline__ int a32_row(int i, int g) { return g + 8 * ((i / 4) % 2); }
__device__ __forceinline__ int a32_col(int i, int t) { return 4 * t + i % 4 + 16 * (i >= 8); }
__device__ __forceinline__ int b32_row(int i, int t) { return 4 * t + i % 4 + 16 * (i >= 4); }
__device__ __forceinline__ int c_row(int i, int g) { return g + 8 * (i >= 2); }
__device__ __forceinline__ int c_col(int i, int t) { return 2 * t + i % 2; }
}  // namespace mma_layout

// d = a * b + c over one 16x8x16 tile: f16 multiplicands, f32 accumulators.
__device__ __forceinline__ void mma_m16n8k16_f16(float d[4], const uint32_t a[4], const uint32_t b[2],
                                                 const float c[4]) {
#if defined(__CUDACC__)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
#endif
#else
  struct Fragment {
    uint32_t a[4], b[2];
  };
  const int lane = int(lane_index());
  const float c_copy[4] = {c[0], c[1], c[2], c[3]};
  const Fragment mine{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}};
  emu::warp_exchange(mine, [&](auto lane_fragment) {
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; ++l) {
      const Fragment f = lane_fragment(unsigned(l));
      const int g = l / 4, t = l % 4;
      for (int i = 0; i < 8; ++i)
        A[mma_layout::a16_row(i, g)][mma_layout::a16_col(i, t)] = f32_from_f16(uint16_t(f.a[i / 2] >> (16 * (i % 2))));
      for (int i = 0; i < 4; ++i) B[mma_layout::b16_row(i, t)][g] = f32_from_f16(uint16_t(f.b[i / 2] >> (16 * (i % 2))));
    }
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      float sum = c_copy[i];
      for (int k = 0; k < 16; ++k) sum += A[mma_layout::c_row(i, g)][k] * B[k][mma_layout::c_col(i, t)];
      d[i] = sum;
    }
    return 0;
  });
#endif
}

// d = a * b + c over one 16x8x32 tile: 8-bit multiplicands (A unsigned or signed as
// `a_unsigned` says, B signed), s32 accumulators.
template <bool a_unsigned>
__device__ __forceinline__ void mma_m16n8k32_8bit(int32_t d[4], const uint32_t a[4], const uint32_t b[2],
                                                  const int32_t c[4]) {
#if defined(__CUDACC__)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (a_unsigned) {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.u8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]),
          "r"(c[3]));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=r"(d[0]), "=r"(d[1]), "=r"(d[2]), "=r"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "r"(c[0]), "r"(c[1]), "r"(c[2]),
          "r"(c[3]));
  }
#endif
#else
  struct Fragment {
    uint32_t a[4], b[2];
  };
  const int lane = int(lane_index());
  const int32_t c_copy[4] = {c[0], c[1], c[2], c[3]};
  const Fragment mine{{a[0], a[1], a[2], a[3]}, {b[0], b[1]}};
  emu::warp_exchange(mine, [&](auto lane_fragment) {
    int32_t A[16][32], B[32][8];
    for (int l = 0; l < 32; ++l) {
      const Fragment f = lane_fragment(unsigned(l));
      const int g = l / 4, t = l % 4;
      for (int i = 0; i < 16; ++i) {
        const uint32_t byte = (f.a[i / 4] >> (8 * (i % 4))) & 0xffu;
        A[mma_layout::a32_row(i, g)][mma_layout::a32_col(i, t)] = a_unsigned ? int32_t(byte) : int32_t(int8_t(byte));
      }
      for (int i = 0; i < 8; ++i)
        B[mma_layout::b32_row(i, t)][g] = int32_t(int8_t((f.b[i / 4] >> (8 * (i % 4))) & 0xffu));
    }
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      int32_t sum = c_copy[i];
      for (int k = 0; k < 32; ++k) sum += A[mma_layout::c_row(i, g)][k] * B[k][mma_layout::c_col(i, t)];
      d[i] = sum;
    }
    return 0;
  });
#endif
}

}  // namespace nnc::cuda
