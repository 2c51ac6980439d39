// The CUDA emulator itself (backends/cuda/emu): blocks, barriers, shared memory, shuffles, early
// exits, the f16 conversions, and the mma.sync fragment layouts checked against the PTX ISA's
// tables written out by hand (not through the layout functions the kernels use).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "backends/cuda/kernels/mma.cuh"

using namespace nnc::cuda;

namespace {

// Each block reverses its 128 values through shared memory: wrong without the barrier.
__global__ void reverse_blocks(const int* in, int* out) {
  __shared__ int tile[128];
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  tile[threadIdx.x] = in[i];
  __syncthreads();
  out[i] = tile[blockDim.x - 1 - threadIdx.x];
}

__global__ void shuffles(int* out) {
  const int lane = int(lane_index()), t = int(threadIdx.x);
  int sum = lane;
  for (int mask = 16; mask > 0; mask /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, mask);
  out[t * 3] = sum;                                           // every lane: 0 + 1 + ... + 31
  out[t * 3 + 1] = __shfl_down_sync(0xffffffffu, lane, 3);    // lane + 3, or its own past the end
  out[t * 3 + 2] = __shfl_sync(0xffffffffu, lane * 10, 7);    // lane 7's value
}

// Threads past `count` leave at once; the others still meet at their barriers.
__global__ void early_exit(int count, int* out) {
  __shared__ int total;
  const int t = int(threadIdx.x);
  if (t >= count) return;
  if (t == 0) total = 0;
  __syncthreads();
  for (int i = 0; i < count; ++i) {
    if (t == i) total += t;
    __syncthreads();
  }
  out[t] = total;
}

__global__ void mma_f16_tile(const uint32_t* a, const uint32_t* b, float* d) {
  const int lane = int(lane_index());
  float c[4] = {0, 0, 0, 0};
  mma_m16n8k16_f16(d + lane * 4, a + lane * 4, b + lane * 2, c);
}

__global__ void mma_s8_tile(const uint32_t* a, const uint32_t* b, int32_t* d) {
  const int lane = int(lane_index());
  int32_t c[4] = {0, 0, 0, 0};
  mma_m16n8k32_8bit<true>(d + lane * 4, a + lane * 4, b + lane * 2, c);
}

}  // namespace

TEST_CASE("emulated blocks share memory through barriers, one block at a time") {
  std::vector<int> in(512), out(512);
  for (int i = 0; i < 512; ++i) in[size_t(i)] = i;
  emu::launch(reverse_blocks, dim3(4), dim3(128), in.data(), out.data());
  for (int b = 0; b < 4; ++b)
    for (int t = 0; t < 128; ++t) CHECK(out[size_t(b * 128 + t)] == b * 128 + 127 - t);
}

TEST_CASE("emulated warp shuffles follow CUDA's xor, down and indexed forms") {
  std::vector<int> out(64 * 3);
  emu::launch(shuffles, dim3(1), dim3(64), out.data());
  for (int t = 0; t < 64; ++t) {
    const int lane = t % 32;
    CHECK(out[size_t(t * 3)] == 496);
    CHECK(out[size_t(t * 3 + 1)] == (lane + 3 < 32 ? lane + 3 : lane));
    CHECK(out[size_t(t * 3 + 2)] == 70);
  }
}

TEST_CASE("an exited thread does not hold back its block's barriers") {
  std::vector<int> out(64, -1);
  emu::launch(early_exit, dim3(1), dim3(64), 40, out.data());
  for (int t = 0; t < 40; ++t) CHECK(out[size_t(t)] == 40 * 39 / 2);
  CHECK(out[40] == -1);
}

TEST_CASE("emulated launches refuse impossible geometry") {
  std::vector<int> out(2048);
  CHECK_THROWS_AS(emu::launch(early_exit, dim3(1), dim3(2048), 1, out.data()), std::invalid_argument);
  CHECK_THROWS_AS(emu::launch(early_exit, dim3(0), dim3(32), 1, out.data()), std::invalid_argument);
}

TEST_CASE("f16 conversions round to nearest even like __float2half_rn") {
  CHECK(f16_from_f32(1.0f) == 0x3c00);
  CHECK(f16_from_f32(-2.0f) == 0xc000);
  CHECK(f16_from_f32(65504.0f) == 0x7bff);
  CHECK(f16_from_f32(65519.0f) == 0x7bff);  // below the halfway point to 65536
  CHECK(f16_from_f32(65520.0f) == 0x7c00);  // the tie rounds to even: infinity
  CHECK(f16_from_f32(1.0f + 1.0f / 2048) == 0x3c00);  // a tie between 1 and 1 + 2^-10: even (1)
  CHECK(f16_from_f32(1.0f + 3.0f / 2048) == 0x3c02);  // a tie: up to the even mantissa
  CHECK(f16_from_f32(std::ldexp(1.0f, -24)) == 0x0001);  // the smallest subnormal
  CHECK(f16_from_f32(std::ldexp(1.0f, -25)) == 0x0000);  // its half: a tie, to even (zero)
  CHECK(f16_from_f32(std::ldexp(3.0f, -26)) == 0x0001);
  CHECK(f16_from_f32(std::ldexp(1.0f, -14)) == 0x0400);  // the smallest normal
  CHECK((f16_from_f32(NAN) & 0x7c00) == 0x7c00);
  CHECK((f16_from_f32(NAN) & 0x03ff) != 0);
  for (uint32_t h = 0; h < 0x7c00; ++h) CHECK(f16_from_f32(f32_from_f16(uint16_t(h))) == h);  // every finite half
  CHECK(f32_from_f16(0x3555) == doctest::Approx(0.33325195f).epsilon(1e-7));
}

TEST_CASE("mma.m16n8k16 fragments are where the PTX ISA's figures put them") {
  // A[r][c] = r * 16 + c and B[k][n] = k == n ? 1 : 0 (n < 8), so D = A's first 8 columns.
  // Fragments written lane by lane from the ISA's figure for .f16 A (rows g, g+8; columns 2t,
  // 2t+1 and 2t+8, 2t+9) and B (rows 2t, 2t+1, 2t+8, 2t+9; column g), by hand for lane 13:
  //   g = 3, t = 1: a0 a1 = A[3][2], A[3][3]; a2 a3 = A[11][2], A[11][3];
  //                 a4 a5 = A[3][10], A[3][11]; a6 a7 = A[11][10], A[11][11].
  std::vector<uint32_t> a(32 * 4), b(32 * 2);
  const auto A = [](int r, int c) { return f16_from_f32(float(r * 16 + c)); };
  const auto B = [](int k, int n) { return f16_from_f32(k == n ? 1.0f : 0.0f); };
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    const int rows[4] = {g, g + 8, g, g + 8}, cols[4] = {2 * t, 2 * t, 2 * t + 8, 2 * t + 8};
    for (int reg = 0; reg < 4; ++reg) a[size_t(lane * 4 + reg)] = pack_f16x2(A(rows[reg], cols[reg]), A(rows[reg], cols[reg] + 1));
    b[size_t(lane * 2)] = pack_f16x2(B(2 * t, g), B(2 * t + 1, g));
    b[size_t(lane * 2 + 1)] = pack_f16x2(B(2 * t + 8, g), B(2 * t + 9, g));
  }
  CHECK(a[13 * 4 + 0] == pack_f16x2(A(3, 2), A(3, 3)));
  CHECK(a[13 * 4 + 3] == pack_f16x2(A(11, 10), A(11, 11)));
  std::vector<float> d(32 * 4);
  emu::launch(mma_f16_tile, dim3(1), dim3(32), a.data(), b.data(), d.data());
  // D's figure: c0 c1 at row g, columns 2t, 2t+1; c2 c3 at row g + 8.
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    CHECK(d[size_t(lane * 4 + 0)] == float(g * 16 + 2 * t));
    CHECK(d[size_t(lane * 4 + 1)] == float(g * 16 + 2 * t + 1));
    CHECK(d[size_t(lane * 4 + 2)] == float((g + 8) * 16 + 2 * t));
    CHECK(d[size_t(lane * 4 + 3)] == float((g + 8) * 16 + 2 * t + 1));
  }
}

TEST_CASE("mma.m16n8k32 8-bit fragments are where the PTX ISA's figures put them") {
  // A (u8) [16][32] = (r * 7 + c) % 200, B (s8) [32][8] picks column k = n + 8 * (n % 3) with
  // weight -1: D[r][n] = -A[r][n + 8 (n % 3)]. Registers hold four bytes, lowest index first:
  // A's regs: (row g, cols 4t..4t+3), (row g+8, same), (row g, cols 4t+16..), (row g+8, same);
  // B's regs: (rows 4t..4t+3, col g), (rows 4t+16..4t+19, col g).
  const auto A = [](int r, int c) { return uint32_t((r * 7 + c) % 200); };
  const auto B = [](int k, int n) { return k == n + 8 * (n % 3) ? uint32_t(uint8_t(int8_t(-1))) : 0u; };
  std::vector<uint32_t> a(32 * 4), b(32 * 2);
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    const int rows[4] = {g, g + 8, g, g + 8}, cols[4] = {4 * t, 4 * t, 4 * t + 16, 4 * t + 16};
    for (int reg = 0; reg < 4; ++reg) {
      uint32_t v = 0;
      for (int byte = 0; byte < 4; ++byte) v |= A(rows[reg], cols[reg] + byte) << (8 * byte);
      a[size_t(lane * 4 + reg)] = v;
    }
    for (int reg = 0; reg < 2; ++reg) {
      uint32_t v = 0;
      for (int byte = 0; byte < 4; ++byte) v |= B(4 * t + 16 * reg + byte, g) << (8 * byte);
      b[size_t(lane * 2 + reg)] = v;
    }
  }
  std::vector<int32_t> d(32 * 4);
  emu::launch(mma_s8_tile, dim3(1), dim3(32), a.data(), b.data(), d.data());
  for (int lane = 0; lane < 32; ++lane) {
    const int g = lane / 4, t = lane % 4;
    for (int i = 0; i < 4; ++i) {
      const int r = g + 8 * (i >= 2), n = 2 * t + i % 2;
      CHECK(d[size_t(lane * 4 + i)] == -int32_t(A(r, n + 8 * (n % 3))));
    }
  }
}
