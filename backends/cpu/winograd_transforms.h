// backends/cpu/winograd_transforms.h — the data transforms of Winograd's minimal filtering
// F(m x m, 3x3) for m = 2 and m = 4 (Lavin & Gray 2016), used by conv_winograd_tactic.cpp.
//
// For a tile with input patch d (α x α, α = m + 2) and 3x3 filter g:  Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A.
//
//   F(2,3):  Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]        Aᵀ = [1 1 1 0; 0 1 -1 -1]
//            G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
//   F(4,3):  Bᵀ = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//            Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
//            G  = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1]
//
// Bᵀ d B is done as Bᵀ over whole input rows (input_rows_*: one vectorised pass per row of the
// tile row), then B over columns: each transformed row is split into m phases (split_phases:
// phase p holds columns m·t + p, so that tile t's columns are phase[k % m][t + k / m], read with
// unit stride), and input_columns_* writes the α values of each tile to α output streams, laid
// out as the GEMM's panels (one call per transformed row, whatever panels its tiles span).
// Every function is compiled for AVX-512, AVX2 and baseline x86-64 (target_clones), and takes
// __restrict pointers: without them GCC cannot prove the streams apart and does not vectorise.
#pragma once

#include <cstdint>

namespace nnc::cpu::winograd {

// Where input_columns_* write: the GEMM's B panels, tile t of the call at lane
// (first_lane + t) % nr of panel (first_lane + t) / nr; `out` points at lane first_lane of the
// first panel of stream 0, panels are panel_step floats apart and the α streams (positions)
// stream_step apart.
struct PanelLayout {
  int64_t first_lane, nr, panel_step, stream_step;
};

// G for m = 2 (4x3) or m = 4 (6x3), row-major, in double (the filter transform is done once).
const double* filter_matrix(int m);

// Splits `r` into `phases` arrays of `length`: phase p gets r[phases·j + p].
void split_phases(const float* __restrict r, int phases, int64_t length, float* __restrict out);

// F(2,3), α = 4.
void input_rows_f2(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                   const float* __restrict d3, float* __restrict r0, float* __restrict r1, float* __restrict r2,
                   float* __restrict r3, int64_t span);
// B over the columns of all four rows of Bᵀ d: row i's phases at phases + 2·phase_length·i, its
// four streams (positions 4i .. 4i+3) at out + 4·stream_step·i.
void input_columns_f2(const float* phases, int64_t phase_length, int64_t count, const PanelLayout& layout, float* out);
// Aᵀ M A + bias for `tiles` tiles; p[ξ · step + t] is tile t's product at ξ. Writes columns
// [0, width) of output rows out0, out1.
void output_f2(const float* __restrict p, int64_t step, int64_t tiles, float bias, float* __restrict out0,
               float* __restrict out1, int64_t width);

// F(4,3), α = 6.
void input_rows_f4(const float* __restrict d0, const float* __restrict d1, const float* __restrict d2,
                   const float* __restrict d3, const float* __restrict d4, const float* __restrict d5,
                   float* __restrict r0, float* __restrict r1, float* __restrict r2, float* __restrict r3,
                   float* __restrict r4, float* __restrict r5, int64_t span);
// The same for all six rows (phases at phases + 4·phase_length·i, streams 6i .. 6i+5).
void input_columns_f4(const float* phases, int64_t phase_length, int64_t count, const PanelLayout& layout, float* out);
// `scratch` holds 40 · tiles floats.
void output_f4(const float* __restrict p, int64_t step, int64_t tiles, float bias, float* __restrict out0,
               float* __restrict out1, float* __restrict out2, float* __restrict out3, int64_t width,
               float* __restrict scratch);

}  // namespace nnc::cpu::winograd
