// backends/cuda/kernels/image_ops.cuh — the per-pixel image ops: MaxPool / AveragePool 2-D,
// Resize (any mode: the host computes each axis's taps, ops/resize.h) and GridSample
// (bilinear / nearest; zeros / border / reflection). One thread per output element.
#pragma once

#include "backends/cuda/kernels/dialect.cuh"

namespace nnc::cuda {

constexpr int kPixelThreads = 256;

struct PoolArgs {
  const float* x = nullptr;
  float* y = nullptr;
  int NC = 0, H = 0, W = 0, OH = 0, OW = 0;
  int KH = 1, KW = 1, SH = 1, SW = 1, PH = 0, PW = 0, DH = 1, DW = 1;
  bool max = true;
  bool count_include_pad = false;  // AveragePool: divide by the whole window, padding included
  int pad_end_h = 0, pad_end_w = 0;  // where "the padding" ends (ceil_mode windows run past it)
};

// The first tap k of a window starting at `start` that lands at or after 0, and one past the last
// that lands before `limit` (at most `kernel`).
__device__ __forceinline__ int window_first(int start, int dilation, int kernel) {
  const int first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  return first < kernel ? first : kernel;
}
__device__ __forceinline__ int window_end(int start, int dilation, int kernel, int limit) {
  const int end = limit - start <= 0 ? 0 : (limit - start - 1) / dilation + 1;
  return end < kernel ? end : kernel;
}

inline namespace NNC_KERNEL_WORLD {
__global__ void pool2d_kernel(PoolArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.NC) * a.OH * a.OW) return;
  const int ow = int(i % a.OW), oh = int((i / a.OW) % a.OH);
  const long long plane = i / (static_cast<long long>(a.OH) * a.OW);
  const float* x = a.x + plane * a.H * a.W;
  // Only the taps inside the input are visited (a window may be far larger than the input).
  const int sh = oh * a.SH - a.PH, sw = ow * a.SW - a.PW;
  const int kh0 = window_first(sh, a.DH, a.KH), kh1 = window_end(sh, a.DH, a.KH, a.H);
  const int kw0 = window_first(sw, a.DW, a.KW), kw1 = window_end(sw, a.DW, a.KW, a.W);
  float best = -INFINITY, sum = 0.0f;
  int inside = 0;
  for (int kh = kh0; kh < kh1; ++kh)
    for (int kw = kw0; kw < kw1; ++kw) {
      const float v = x[(sh + kh * a.DH) * a.W + sw + kw * a.DW];
      best = fmaxf(best, v);
      sum += v;
      ++inside;
    }
  // count_include_pad: the taps before the end padding's edge (the begin padding included).
  const int in_padded = window_end(sh, a.DH, a.KH, a.H + a.pad_end_h) * window_end(sw, a.DW, a.KW, a.W + a.pad_end_w);
  a.y[i] = a.max ? best : sum / float(a.count_include_pad ? in_padded : inside);
}
}  // namespace NNC_KERNEL_WORLD

// Resize of the two innermost axes: y[p][oh][ow] = Σ_i Σ_j wh[oh][i] · ww[ow][j] · x[p][ih][iw].
struct ResizeArgs {
  const float* x = nullptr;
  float* y = nullptr;
  int planes = 0, H = 0, W = 0, OH = 0, OW = 0;
  int taps_h = 1, taps_w = 1;
  const int* index_h = nullptr;     // [OH][taps_h], clamped into [0, H)
  const float* weight_h = nullptr;  // [OH][taps_h]
  const int* index_w = nullptr;
  const float* weight_w = nullptr;
};

inline namespace NNC_KERNEL_WORLD {
__global__ void resize2d_kernel(ResizeArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.planes) * a.OH * a.OW) return;
  const int ow = int(i % a.OW), oh = int((i / a.OW) % a.OH);
  const float* x = a.x + (i / (static_cast<long long>(a.OH) * a.OW)) * a.H * a.W;
  float v = 0.0f;
  for (int th = 0; th < a.taps_h; ++th) {
    float row = 0.0f;
    const int ih = a.index_h[oh * a.taps_h + th];
    for (int tw = 0; tw < a.taps_w; ++tw) row += a.weight_w[ow * a.taps_w + tw] * x[ih * a.W + a.index_w[ow * a.taps_w + tw]];
    v += a.weight_h[oh * a.taps_h + th] * row;
  }
  a.y[i] = v;
}
}  // namespace NNC_KERNEL_WORLD

enum class GridPadding : int { Zeros, Border, Reflection };

struct GridSampleArgs {
  const float* x = nullptr;     // [N, C, H, W]
  const float* grid = nullptr;  // [N, OH, OW, 2]
  float* y = nullptr;           // [N, C, OH, OW]
  int N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0;
  bool nearest = false, align_corners = false;
  GridPadding padding = GridPadding::Zeros;
};

// ops/grid_sample.cpp's reflect_coordinate.
__device__ __forceinline__ float reflect(float v, float low, float high) {
  if (low == high) return low;
  const float span = high - low;
  float d = fabsf(v - low);
  const float flips = floorf(d / span);
  d -= flips * span;
  return fmodf(flips, 2.0f) == 0.0f ? low + d : high - d;
}

__device__ __forceinline__ float grid_coordinate(const GridSampleArgs& a, float g, int size) {
  float v = a.align_corners ? (g + 1.0f) / 2.0f * float(size - 1) : ((g + 1.0f) * float(size) - 1.0f) / 2.0f;
  if (a.padding == GridPadding::Border) v = fminf(fmaxf(v, 0.0f), float(size - 1));
  if (a.padding == GridPadding::Reflection) {
    v = a.align_corners ? reflect(v, 0.0f, float(size - 1)) : reflect(v, -0.5f, float(size) - 0.5f);
    v = fminf(fmaxf(v, 0.0f), float(size - 1));
  }
  return v;
}

inline namespace NNC_KERNEL_WORLD {
__global__ void grid_sample_kernel(GridSampleArgs a) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<long long>(a.N) * a.C * a.OH * a.OW) return;
  const long long pixel = i % (static_cast<long long>(a.OH) * a.OW);
  const long long plane = i / (static_cast<long long>(a.OH) * a.OW);
  const int n = int(plane / a.C);
  const float* g = a.grid + (static_cast<long long>(n) * a.OH * a.OW + pixel) * 2;
  const float px = grid_coordinate(a, g[0], a.W), py = grid_coordinate(a, g[1], a.H);
  const float* x = a.x + plane * a.H * a.W;
  // Coordinates far outside (or NaN) read nothing; the bound keeps the int conversions defined.
  const auto at = [&](float yy, float xx) -> float {
    if (!(yy >= 0.0f && yy < float(a.H) && xx >= 0.0f && xx < float(a.W))) return 0.0f;
    return x[int(yy) * a.W + int(xx)];
  };
  float v;
  if (a.nearest) {
    v = at(nearbyintf(py), nearbyintf(px));
  } else {
    const float x0 = floorf(px), y0 = floorf(py), wx = px - x0, wy = py - y0;
    v = (1.0f - wy) * ((1.0f - wx) * at(y0, x0) + wx * at(y0, x0 + 1.0f)) +
        wy * ((1.0f - wx) * at(y0 + 1.0f, x0) + wx * at(y0 + 1.0f, x0 + 1.0f));
  }
  a.y[i] = v;
}
}  // namespace NNC_KERNEL_WORLD

}  // namespace nnc::cuda
