// backends/cpu/winograd_transforms.cpp — see winograd_transforms.h.
#include "backends/cpu/winograd_transforms.h"

#include <algorithm>

// Every transform is cloned per instruction set (see the header); one name for the attribute.
#define NNC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

namespace nnc::cpu::winograd {

const double* filter_matrix(int m) {
  static const double f2[4 * 3] = {1, 0, 0, 0.5, 0.5, 0.5, 0.5, -0.5, 0.5, 0, 0, 1};
  static const double f4[6 * 3] = {1.0 / 4,  0,         0,        -1.0 / 6, -1.0 / 6, -1.0 / 6,
                                   -1.0 / 6, 1.0 / 6,   -1.0 / 6, 1.0 / 24, 1.0 / 12, 1.0 / 6,
                                   1.0 / 24, -1.0 / 12, 1.0 / 6,  0,        0,        1};
  return m == 2 ? f2 : f4;
}

NNC_CLONES void split_phases(const float* __restrict r, int phases, int64_t length, float* __restrict out) {
  if (phases == 2) {
    for (int64_t j = 0; j < length; ++j) {
      out[j] = r[2 * j];
      out[length + j] = r[2 * j + 1];
    }
    return;
  }
  for (int64_t j = 0; j < length; ++j) {
    out[j] = r[4 * j];
    out[length + j] = r[4 * j + 1];
    out[2 * length + j] = r[4 * j + 2];
    out[3 * length + j] = r[4 * j + 3];
  }
}

// ---- F(2,3) ---------------------------------------------------------------------------------

NNC_CLONES void input_rows_f2(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                              const float* __restrict d3, float* __restrict r0, float* __restrict r1,
                              float* __restrict r2, float* __restrict r3, int64_t span) {
  for (int64_t q = 0; q < span; ++q) {
    r0[q] = d0[q] - d2[q];
    r1[q] = d1[q] + d2[q];
    r2[q] = d2[q] - d1[q];
    r3[q] = d1[q] - d3[q];
  }
}

namespace {

// B over the columns of `count` consecutive tiles of one panel, into four (six) streams.
__attribute__((always_inline)) inline void columns_f2(const float* __restrict e, const float* __restrict o,
                                                      int64_t count, float* __restrict out0, float* __restrict out1,
                                                      float* __restrict out2, float* __restrict out3) {
  for (int64_t t = 0; t < count; ++t) {  // columns 2t .. 2t+3 are e[t], o[t], e[t+1], o[t+1]
    out0[t] = e[t] - e[t + 1];
    out1[t] = o[t] + e[t + 1];
    out2[t] = e[t + 1] - o[t];
    out3[t] = o[t] - o[t + 1];
  }
}

__attribute__((always_inline)) inline void columns_f4(const float* __restrict p0, const float* __restrict p1,
                                                      const float* __restrict p2, const float* __restrict p3,
                                                      int64_t count, float* __restrict out0, float* __restrict out1,
                                                      float* __restrict out2, float* __restrict out3,
                                                      float* __restrict out4, float* __restrict out5) {
  for (int64_t t = 0; t < count; ++t) {  // columns 4t .. 4t+5: p0[t] p1[t] p2[t] p3[t] p0[t+1] p1[t+1]
    const float a0 = p0[t], a1 = p1[t], a2 = p2[t], a3 = p3[t], a4 = p0[t + 1], a5 = p1[t + 1];
    out0[t] = 4 * a0 - 5 * a2 + a4;
    out1[t] = -4 * a1 - 4 * a2 + a3 + a4;
    out2[t] = 4 * a1 - 4 * a2 - a3 + a4;
    out3[t] = -2 * a1 - a2 + 2 * a3 + a4;
    out4[t] = 2 * a1 - a2 - 2 * a3 + a4;
    out5[t] = 4 * a1 - 5 * a3 + a5;
  }
}

}  // namespace

NNC_CLONES void input_columns_f2(const float* phases, int64_t phase_length, int64_t count, const PanelLayout& layout,
                                 float* out) {
  for (int row = 0; row < 4; ++row) {  // row i of Bᵀ d: its phases at phases + 2 L i, its streams at out + 4 i ...
    const float* e = phases + 2 * phase_length * row;
    const float* o = e + phase_length;
    float* dst = out + 4 * layout.stream_step * row;
    for (int64_t t = 0, lane = layout.first_lane; t < count; lane = 0) {
      const int64_t run = std::min(count - t, layout.nr - lane);
      const int64_t s = layout.stream_step;
      columns_f2(e + t, o + t, run, dst, dst + s, dst + 2 * s, dst + 3 * s);
      t += run;
      dst += layout.panel_step - lane;  // lane 0 of the next panel
    }
  }
}

NNC_CLONES void input_columns_f4(const float* phases, int64_t phase_length, int64_t count, const PanelLayout& layout,
                                 float* out) {
  for (int row = 0; row < 6; ++row) {
    const float* p0 = phases + 4 * phase_length * row;
    const float *p1 = p0 + phase_length, *p2 = p1 + phase_length, *p3 = p2 + phase_length;
    float* dst = out + 6 * layout.stream_step * row;
    for (int64_t t = 0, lane = layout.first_lane; t < count; lane = 0) {
      const int64_t run = std::min(count - t, layout.nr - lane);
      const int64_t s = layout.stream_step;
      columns_f4(p0 + t, p1 + t, p2 + t, p3 + t, run, dst, dst + s, dst + 2 * s, dst + 3 * s, dst + 4 * s, dst + 5 * s);
      t += run;
      dst += layout.panel_step - lane;
    }
  }
}

NNC_CLONES void output_f2(const float* __restrict p, int64_t step, int64_t tiles, float bias, float* __restrict out0,
                          float* __restrict out1, int64_t width) {
  // Column j of Aᵀ M: top_j = m0j + m1j + m2j, bottom_j = m1j - m2j - m3j (mij at ξ = 4i + j).
  auto top = [&](int j, int64_t t) { return p[j * step + t] + p[(4 + j) * step + t] + p[(8 + j) * step + t]; };
  auto bottom = [&](int j, int64_t t) {
    return p[(4 + j) * step + t] - p[(8 + j) * step + t] - p[(12 + j) * step + t];
  };
  const int64_t whole = std::min(tiles, width / 2);  // tiles with both output columns inside
  for (int64_t t = 0; t < whole; ++t) {
    const float t0 = top(0, t), t1 = top(1, t), t2 = top(2, t), t3 = top(3, t);
    const float b0 = bottom(0, t), b1 = bottom(1, t), b2 = bottom(2, t), b3 = bottom(3, t);
    out0[2 * t] = t0 + t1 + t2 + bias;
    out0[2 * t + 1] = t1 - t2 - t3 + bias;
    out1[2 * t] = b0 + b1 + b2 + bias;
    out1[2 * t + 1] = b1 - b2 - b3 + bias;
  }
  if (whole < tiles) {  // an odd output width: the last tile has one column
    const int64_t t = whole;
    out0[2 * t] = top(0, t) + top(1, t) + top(2, t) + bias;
    out1[2 * t] = bottom(0, t) + bottom(1, t) + bottom(2, t) + bias;
  }
}

// ---- F(4,3) ---------------------------------------------------------------------------------

NNC_CLONES void input_rows_f4(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                              const float* __restrict d3, const float* __restrict d4, const float* __restrict d5,
                              float* __restrict r0, float* __restrict r1, float* __restrict r2, float* __restrict r3,
                              float* __restrict r4, float* __restrict r5, int64_t span) {
  for (int64_t q = 0; q < span; ++q) {
    r0[q] = 4 * d0[q] - 5 * d2[q] + d4[q];
    r1[q] = -4 * d1[q] - 4 * d2[q] + d3[q] + d4[q];
    r2[q] = 4 * d1[q] - 4 * d2[q] - d3[q] + d4[q];
    r3[q] = -2 * d1[q] - d2[q] + 2 * d3[q] + d4[q];
    r4[q] = 2 * d1[q] - d2[q] - 2 * d3[q] + d4[q];
    r5[q] = 4 * d1[q] - 5 * d3[q] + d5[q];
  }
}

// c[a][j][t] = (Aᵀ M)[a][j] for one column j of every tile, from the six products m0..m5 of
// that column (mij at ξ = 6i + j).
NNC_CLONES void output_columns_f4(const float* __restrict m0, const float* __restrict m1, const float* __restrict m2,
                                  const float* __restrict m3, const float* __restrict m4, const float* __restrict m5,
                                  int64_t tiles, float* __restrict c0, float* __restrict c1, float* __restrict c2,
                                  float* __restrict c3) {
  for (int64_t t = 0; t < tiles; ++t) {
    c0[t] = m0[t] + m1[t] + m2[t] + m3[t] + m4[t];
    c1[t] = m1[t] - m2[t] + 2 * m3[t] - 2 * m4[t];
    c2[t] = m1[t] + m2[t] + 4 * m3[t] + 4 * m4[t];
    c3[t] = m1[t] - m2[t] + 8 * m3[t] - 8 * m4[t] + m5[t];
  }
}

// y[b][t] = (c A)[b] + bias for one output row of every tile, from its six columns c0..c5.
NNC_CLONES void output_rows_f4(const float* __restrict c0, const float* __restrict c1, const float* __restrict c2,
                               const float* __restrict c3, const float* __restrict c4, const float* __restrict c5,
                               int64_t tiles, float bias, float* __restrict y0, float* __restrict y1,
                               float* __restrict y2, float* __restrict y3) {
  for (int64_t t = 0; t < tiles; ++t) {
    y0[t] = c0[t] + c1[t] + c2[t] + c3[t] + c4[t] + bias;
    y1[t] = c1[t] - c2[t] + 2 * c3[t] - 2 * c4[t] + bias;
    y2[t] = c1[t] + c2[t] + 4 * c3[t] + 4 * c4[t] + bias;
    y3[t] = c1[t] - c2[t] + 8 * c3[t] - 8 * c4[t] + c5[t] + bias;
  }
}

NNC_CLONES void output_f4(const float* __restrict p, int64_t step, int64_t tiles, float bias, float* __restrict out0,
                          float* __restrict out1, float* __restrict out2, float* __restrict out3, int64_t width,
                          float* __restrict scratch) {
  // Aᵀ M column by column into c[a][j] (24 arrays), then (c A) row by row into y[a][b] (16
  // arrays), each a unit-stride loop over tiles; then interleave y's columns into the output.
  float* c = scratch;
  float* y = scratch + 24 * tiles;
  auto cp = [&](int a, int j) { return c + (a * 6 + j) * tiles; };
  for (int j = 0; j < 6; ++j)
    output_columns_f4(p + j * step, p + (6 + j) * step, p + (12 + j) * step, p + (18 + j) * step, p + (24 + j) * step,
                      p + (30 + j) * step, tiles, cp(0, j), cp(1, j), cp(2, j), cp(3, j));
  for (int a = 0; a < 4; ++a)
    output_rows_f4(cp(a, 0), cp(a, 1), cp(a, 2), cp(a, 3), cp(a, 4), cp(a, 5), tiles, bias, y + (4 * a) * tiles,
                   y + (4 * a + 1) * tiles, y + (4 * a + 2) * tiles, y + (4 * a + 3) * tiles);
  // Pass 2: interleave the four column phases of each output row.
  float* __restrict rows[4] = {out0, out1, out2, out3};
  for (int a = 0; a < 4; ++a) {
    const float *__restrict y0 = y + (4 * a) * tiles, *__restrict y1 = y0 + tiles, *__restrict y2 = y1 + tiles,
                           *__restrict y3 = y2 + tiles;
    float* __restrict out = rows[a];
    const int64_t whole = std::min(tiles, width / 4);  // tiles whose four output columns are inside
    for (int64_t t = 0; t < whole; ++t) {
      out[4 * t] = y0[t];
      out[4 * t + 1] = y1[t];
      out[4 * t + 2] = y2[t];
      out[4 * t + 3] = y3[t];
    }
    for (int64_t x = 4 * whole; x < width; ++x) out[x] = y[(4 * a + x % 4) * tiles + x / 4];
  }
}

}  // namespace nnc::cpu::winograd

#undef NNC_CLONES
