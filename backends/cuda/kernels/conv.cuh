// backends/cuda/kernels/conv.cuh — 2-D convolution as implicit GEMM, f32 and 8-bit.
//
// Per image n and group g: Y[m][p] = sum_k W[m][k] · X̂[k][p], m an output channel of the group,
// p = oh · OW + ow an output pixel, k = (c, kh, kw) a tap; X̂[k][p] is the input pixel under tap k
// for output p (zero, or the zero point, in the padding), read straight from the NCHW input when
// the engine stages a tile: no im2col matrix is ever built. Batch index z = n · groups + g.
// A Concat the memory plan made zero-copy needs nothing here: the output pointer is the slice.
#pragma once

#include "backends/cuda/kernels/epilogue.cuh"
#include "backends/cuda/kernels/tile_gemm.cuh"

namespace nnc::cuda {

struct ConvShape {
  int N = 1, C = 1, H = 1, W = 1;       // input
  int M = 1, OH = 1, OW = 1;            // output channels and size
  int KH = 1, KW = 1, SH = 1, SW = 1, PH = 0, PW = 0, DH = 1, DW = 1, groups = 1;

  __device__ __forceinline__ int group_in() const { return C / groups; }
  __device__ __forceinline__ int group_out() const { return M / groups; }
  __device__ __forceinline__ int taps() const { return group_in() * KH * KW; }
  // The input element under tap k for output pixel p of image n, group g; -1 in the padding.
  __device__ __forceinline__ long long input_index(int n, int g, int k, int p) const {
    const int c = k / (KH * KW), tap = k % (KH * KW), kh = tap / KW, kw = tap % KW;
    const int ih = (p / OW) * SH - PH + kh * DH, iw = (p % OW) * SW - PW + kw * DW;
    if (ih < 0 || ih >= H || iw < 0 || iw >= W) return -1;
    return ((static_cast<long long>(n) * C + g * group_in() + c) * H + ih) * W + iw;
  }
  // Engine batch z = n · groups + g: weight element (m, k) of the group, and the output channel.
  __device__ __forceinline__ long long weight_index(int z, int m, int k) const {
    return (static_cast<long long>(z % groups) * group_out() + m) * taps() + k;
  }
  __device__ __forceinline__ int channel_of(int z, int m) const { return (z % groups) * group_out() + m; }
  // Output (and residual) element of image n, channel, pixel p.
  __device__ __forceinline__ long long output_index(int n, int channel, int p) const {
    return (static_cast<long long>(n) * M + channel) * (OH * OW) + p;
  }
};

// A conv problem for shape `s`: per image and group, M = maps of the group, N = output pixels,
// K = the group's channels x taps; batch = images x groups.
template <class Problem>
Problem conv_problem(const ConvShape& s) {
  Problem p;
  p.s = s;
  p.M = s.M / s.groups;
  p.N = s.OH * s.OW;
  p.K = (s.C / s.groups) * s.KH * s.KW;
  p.batch = s.N * s.groups;
  return p;
}

// y = act(conv(x, w) + bias [+ residual]) in f32; the same problem runs on CUDA cores or on
// Tensor Cores in f16.
struct ConvF32Problem {
  ConvShape s;
  const float* x = nullptr;
  const float* w = nullptr;     // [M][C/groups][KH][KW]
  const float* bias = nullptr;  // [M] or null
  float* y = nullptr;
  FloatEpilogue epilogue;
  int M = 0, N = 0, K = 0, batch = 0;

  static ConvF32Problem make(const ConvShape& s) { return conv_problem<ConvF32Problem>(s); }
  __device__ __forceinline__ float a(int z, int m, int k) const { return w[s.weight_index(z, m, k)]; }
  __device__ __forceinline__ float b(int z, int k, int p) const {
    const long long i = s.input_index(z / s.groups, z % s.groups, k, p);
    return i < 0 ? 0.0f : x[i];
  }
  __device__ __forceinline__ void store(int z, int m, int p, float acc) const {
    const int channel = s.channel_of(z, m);
    const long long out = s.output_index(z / s.groups, channel, p);
    y[out] = finish(epilogue, acc + (bias ? bias[channel] : 0.0f), out);
  }
};

// QLinearConv: 8-bit x (unsigned or signed), symmetric s8 weights, int32 bias, requantized
// 8-bit y. The padding reads the input's zero point (a real 0); the zero point's contribution
// x_zero · sum_k w[m][k] is subtracted once per output (`weight_sums`).
template <class XType, class YType>
struct QConvProblem {
  ConvShape s;
  const XType* x = nullptr;
  const int8_t* w = nullptr;
  const int32_t* bias = nullptr;         // [M] or null
  const int32_t* weight_sums = nullptr;  // [M]
  const YType* residual = nullptr;       // raw 8-bit residual, or null
  YType* y = nullptr;
  int32_t x_zero = 0;
  Requantize q;
  int M = 0, N = 0, K = 0, batch = 0;

  static QConvProblem make(const ConvShape& s) { return conv_problem<QConvProblem>(s); }
  __device__ __forceinline__ int32_t a(int z, int m, int k) const { return w[s.weight_index(z, m, k)]; }
  __device__ __forceinline__ int32_t b(int z, int k, int p) const {
    const long long i = s.input_index(z / s.groups, z % s.groups, k, p);
    return i < 0 ? x_zero : int32_t(x[i]);
  }
  __device__ __forceinline__ void store(int z, int m, int p, int32_t acc) const {
    const int channel = s.channel_of(z, m);
    const long long out = s.output_index(z / s.groups, channel, p);
    const int32_t total = acc - x_zero * weight_sums[channel] + (bias ? bias[channel] : 0);
    y[out] = YType(requantize(q, total, channel, residual ? int32_t(residual[out]) : 0));
  }
};

}  // namespace nnc::cuda
