// backends/cpu/row_math.cpp — see row_math.h.
#include "backends/cpu/row_math.h"

#include <algorithm>

namespace nnc::cpu {
namespace {

constexpr int kLanes = 16;

// Folds f over x with kLanes independent accumulators started at `init`, then combines them.
template <typename Step>
inline float fold_lanes(const float* x, int64_t n, float init, Step step) {
  float acc[kLanes];
  std::fill(acc, acc + kLanes, init);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] = step(acc[j], x[i + j]);
  float result = init;
  for (int j = 0; j < kLanes; ++j) result = step(result, acc[j]);
  for (; i < n; ++i) result = step(result, x[i]);
  return result;
}

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default"))) float row_sum(const float* x, int64_t n) {
  return fold_lanes(x, n, 0.0f, [](float s, float v) { return s + v; });
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float row_max(const float* x, int64_t n) {
  return fold_lanes(x, n, x[0], [](float m, float v) { return v > m ? v : m; });
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float row_min(const float* x, int64_t n) {
  return fold_lanes(x, n, x[0], [](float m, float v) { return v < m ? v : m; });
}

__attribute__((target_clones("avx512f", "avx2", "default"))) float row_squared_deviation(const float* x, int64_t n,
                                                                                         float mean) {
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) acc[j] += (x[i + j] - mean) * (x[i + j] - mean);
  float s = 0;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < n; ++i) s += (x[i] - mean) * (x[i] - mean);
  return s;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void multiply_add_i16(int32_t* __restrict out, const int16_t* __restrict in, int32_t a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += a * int32_t(in[i]);
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void multiply_add_i16_strided(int32_t* __restrict out, const int16_t* __restrict in, int64_t stride, int32_t a, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += a * int32_t(in[i * stride]);
}

ColumnRange columns_inside(int64_t offset, int64_t stride, int64_t width, int64_t out_w) {
  auto ceil_div_nonneg = [](int64_t a, int64_t b) { return a <= 0 ? int64_t{0} : (a + b - 1) / b; };
  const int64_t lo = std::min(out_w, ceil_div_nonneg(-offset, stride));
  return {lo, std::clamp<int64_t>(ceil_div_nonneg(width - offset, stride), lo, out_w)};
}

}  // namespace nnc::cpu
