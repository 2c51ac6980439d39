// backends/cpu/row_math.h — reductions over a contiguous row of floats, vectorised for the
// instruction set found at run time (norm_tactics.cpp, lane_tactics.cpp).
//
// Without -ffast-math GCC will not vectorise `s += x[i]`: it may not reorder float additions.
// These keep 16 independent partial results (one vector's worth of lanes), which it may, and
// combine them at the end; the rounding differs from a left-to-right sum by a few ulps.
#pragma once

#include <cstdint>

namespace nnc::cpu {

float row_sum(const float* x, int64_t n);
float row_max(const float* x, int64_t n);  // n >= 1
float row_min(const float* x, int64_t n);  // n >= 1
float row_squared_deviation(const float* x, int64_t n, float mean);  // sum of (x - mean)^2

}  // namespace nnc::cpu
