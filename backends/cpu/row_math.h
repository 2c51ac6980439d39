// backends/cpu/row_math.h — reductions over a contiguous row of floats, and the INT8 row
// tactics' integer multiply-add, vectorised for the instruction set found at run time
// (norm_tactics.cpp, lane_tactics.cpp, qconv_rows_tactic.cpp, qmatmul_rows_tactic.cpp).
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

// A direct conv's tap at `offset` (kw·dilation − pad_left) reads input column ow·stride + offset
// for output column ow: the columns [lo, hi) of a row of out_w for which that column lies in
// [0, width) (conv.direct-rows, qconv.direct-rows).
struct ColumnRange {
  int64_t lo, hi;
};
ColumnRange columns_inside(int64_t offset, int64_t stride, int64_t width, int64_t out_w);

// out[i] += a · in[i] (·stride): the INT8 row tactics' multiply-add of centred int16 values into
// int32 sums (qconv.direct-rows, qmatmul.rows). Exact: the callers bound the sums.
void multiply_add_i16(int32_t* out, const int16_t* in, int32_t a, int64_t n);
void multiply_add_i16_strided(int32_t* out, const int16_t* in, int64_t stride, int32_t a, int64_t n);

}  // namespace nnc::cpu
