// backends/cuda/kernels/deform.cuh — the deformable ops of PETR/BEVFormer-style detectors on
// the GPU: multi-scale deformable attention (one thread per output element: query, head and
// channel; the bilinear taps of every level and point gathered in registers) and modulated
// deformable convolution as an implicit-GEMM problem whose B operand is the deformed,
// bilinearly sampled and masked window (the im2col matrix never exists), so it runs on the
// CUDA-core or f16 Tensor-Core engines of tile_gemm.cuh. Sampling rules are ops/ms_deform_attn.h's
// and ops/deform_conv.h's: taps outside the map read zero, a non-finite position gives NaN.
#pragma once

#include "backends/cuda/kernels/tile_gemm.cuh"

namespace nnc::cuda {

constexpr int kMaxDeformLevels = 8;
constexpr int kDeformThreads = 128;

struct DeformAttnArgs {
  const float* value = nullptr;      // [B, S, M, D]
  const float* locations = nullptr;  // [B, Q, M, L, P, 2], normalised (x, y)
  const float* weights = nullptr;    // [B, Q, M, L, P]
  float* out = nullptr;              // [B, Q, M, D]
  int B = 0, S = 0, M = 0, D = 0, Q = 0, L = 0, P = 0;
  int height[kMaxDeformLevels] = {}, width[kMaxDeformLevels] = {}, start[kMaxDeformLevels] = {};
};

// The bilinear sample of an H x W map at pixel (py, px), reading zero outside; `at(pixel)`
// reads the map. NaN for a non-finite position (the reference's NaN weights).
template <class At>
__device__ __forceinline__ float bilinear_zeros(float py, float px, int H, int W, const At& at) {
  if (!isfinite(py) || !isfinite(px)) return NAN;
  const float y0 = floorf(py), x0 = floorf(px), wy = py - y0, wx = px - x0;
  float sum = 0.0f;
  for (int t = 0; t < 4; ++t) {
    const float ty = y0 + float(t / 2), tx = x0 + float(t % 2);
    if (!(ty >= 0.0f && ty < float(H) && tx >= 0.0f && tx < float(W))) continue;
    const float w = (t / 2 ? wy : 1.0f - wy) * (t % 2 ? wx : 1.0f - wx);
    if (w != 0.0f) sum += w * at(int(ty) * W + int(tx));
  }
  return sum;
}

inline namespace NNC_KERNEL_WORLD {
__global__ void deform_attn_kernel(DeformAttnArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.B) * a.Q * a.M * a.D) return;
  const int d = int(i % a.D);
  const long long bqm = i / a.D;  // (b, q, m)
  const int m = int(bqm % a.M);
  const int b = int(bqm / (static_cast<long long>(a.M) * a.Q));
  float sum = 0.0f;
  for (int l = 0; l < a.L; ++l) {
    const int H = a.height[l], W = a.width[l];
    const float* map = a.value + ((static_cast<long long>(b) * a.S + a.start[l]) * a.M + m) * a.D + d;
    const auto at = [&](int pixel) { return map[static_cast<long long>(pixel) * a.M * a.D]; };
    for (int p = 0; p < a.P; ++p) {
      const long long point = (bqm * a.L + l) * a.P + p;
      const float weight = a.weights[point];
      const float px = a.locations[2 * point] * float(W) - 0.5f, py = a.locations[2 * point + 1] * float(H) - 0.5f;
      // The reference's rule tap by tap: coefficient = attention weight · bilinear weight, taps
      // with a zero coefficient skipped (outside the map), a non-finite position giving NaN.
      if (!isfinite(px) || !isfinite(py)) {
        sum += weight * NAN * at(0);
        continue;
      }
      const float y0 = floorf(py), x0 = floorf(px), wy = py - y0, wx = px - x0;
      for (int t = 0; t < 4; ++t) {
        const float ty = y0 + float(t / 2), tx = x0 + float(t % 2);
        const bool inside = ty >= 0.0f && ty < float(H) && tx >= 0.0f && tx < float(W);
        const float coefficient = weight * (inside ? (t / 2 ? wy : 1.0f - wy) * (t % 2 ? wx : 1.0f - wx) : 0.0f);
        if (coefficient != 0.0f) sum += coefficient * at(inside ? int(ty) * W + int(tx) : 0);
      }
    }
  }
  a.out[i] = sum;
}
}  // namespace NNC_KERNEL_WORLD

// DeformConv (ONNX opset 19, torchvision's modulated v2): per image n and group g,
// Y[m][p] = Σ_k W[m][k] · mask · bilinear(x, p's window tap k moved by its offset).
struct DeformConvProblem {
  const float* x = nullptr;       // [N, C, H, W]
  const float* w = nullptr;       // [Mo, C / groups, KH, KW]
  const float* offset = nullptr;  // [N, offset_groups · KH·KW · 2, OH, OW] as (dy, dx) pairs
  const float* mask = nullptr;    // [N, offset_groups · KH·KW, OH, OW] or null
  const float* bias = nullptr;    // [Mo] or null
  float* y = nullptr;             // [N, Mo, OH, OW]
  int images = 0, C = 0, H = 0, W = 0, Mo = 0, OH = 0, OW = 0, KH = 1, KW = 1;
  int SH = 1, SW = 1, PH = 0, PW = 0, DH = 1, DW = 1, groups = 1, offset_groups = 1;
  // The engine's view: M maps per group, N output pixels, K = C/groups · KH·KW, batch = images · groups.
  int M = 0, N = 0, K = 0, batch = 0;

  __device__ __forceinline__ float a(int z, int m, int k) const {
    return w[(static_cast<long long>(z % groups) * M + m) * K + k];
  }
  __device__ __forceinline__ float b(int z, int k, int p) const {
    const int n = z / groups, g = z % groups, taps = KH * KW;
    const int c = g * (C / groups) + k / taps, tap = k % taps, kh = tap / KW, kw = tap % KW;
    const int og = c / (C / offset_groups), oh = p / OW, ow = p % OW;
    const long long positions = static_cast<long long>(OH) * OW;
    const long long pair = (static_cast<long long>(n) * offset_groups * taps + og * taps + tap) * 2;
    const float dy = offset[pair * positions + p], dx = offset[(pair + 1) * positions + p];
    const float scale =
        mask ? mask[(static_cast<long long>(n) * offset_groups * taps + og * taps + tap) * positions + p] : 1.0f;
    const float* plane = x + (static_cast<long long>(n) * C + c) * H * W;
    const float py = float(oh * SH - PH + kh * DH) + dy, px = float(ow * SW - PW + kw * DW) + dx;
    return scale * bilinear_zeros(py, px, H, W, [&](int pixel) { return plane[pixel]; });
  }
  __device__ __forceinline__ void store(int z, int m, int p, float acc) const {
    const int n = z / groups, channel = (z % groups) * M + m;
    y[(static_cast<long long>(n) * Mo + channel) * OH * OW + p] = acc + (bias ? bias[channel] : 0.0f);
  }
};

}  // namespace nnc::cuda
