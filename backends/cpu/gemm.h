// backends/cpu/gemm.h — the packed single-precision GEMM every fast Conv, MatMul and Gemm runs on.
//
//   C[M, N] = epilogue( A[M, K] · B[K, N] )      (C row-major with row stride ldc)
//
// How it is fast (the BLIS/GotoBLAS design):
//  * A register-blocked micro-kernel computes an MR x NR tile of C from a panel of A (MR rows,
//    k-major) and a panel of B (NR columns, k-major) with nothing but broadcasts, loads and FMAs:
//    12x32 on AVX-512 (24 zmm accumulators), 6x16 on AVX2+FMA, 4x16 portable. The instruction set
//    is chosen at run time (backends/cpu/cpu_info.h).
//  * K is cut into blocks of kKc so a B panel stays in L1 while every A panel of the block
//    streams past it; N is cut into blocks of kNc so the packed B block stays in L2.
//  * Operands arrive as a PanelSource: a constant (weights) is packed once at compile time
//    (PackedPanels), anything else is packed on the fly, and Conv's im2col is itself a source
//    that packs straight from the image, so the big column matrix never exists.
//  * The epilogue (bias per row or per column, residual add, activation) runs on each finished
//    block of C while it is still in cache.
//  * Threads split N (or M, when N is narrow) statically; each packs its own B.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "backends/cpu/micro_kernels.h"
#include "ops/epilogue.h"

namespace nnc::cpu {

constexpr int64_t kKc = 256;  // K block: a 32-column B panel of kKc rows is 32 KiB (L1)
constexpr int64_t kNc = 384;  // N block per thread: the packed B block is 384 KiB (L2)

// Supplies packed panels of one GEMM operand. For A a panel holds rows [i0, i0+width) of
// A[M, K]; for B it holds columns [i0, i0+width) of B[K, N]; in both, entries for k in
// [k0, k0+kc) are laid out as panel[k * pad + i], zero for i >= width. `scratch` has room for
// pad * kc floats; a source that already holds the panel returns a pointer to it instead.
class PanelSource {
 public:
  virtual ~PanelSource() = default;
  virtual const float* panel(int64_t i0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const = 0;
};

// A strided matrix: element (i, k) is data[i * stride_i + k * stride_k]. Covers row-major A
// (stride_i = lda, stride_k = 1), row-major B (i is the column: stride_i = 1, stride_k = ldb) and
// the transposed forms Gemm's transA / transB ask for.
class StridedSource final : public PanelSource {
 public:
  StridedSource(const float* data, int64_t stride_i, int64_t stride_k)
      : data_(data), stride_i_(stride_i), stride_k_(stride_k) {}
  const float* panel(int64_t i0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const override;

 private:
  const float* data_;
  int64_t stride_i_, stride_k_;
};

// A constant operand packed once, for the micro-tile of this CPU: every (K block, panel) pair
// is stored ready to use. `rows` is M for an A operand, N for a B operand.
class PackedPanels final : public PanelSource {
 public:
  PackedPanels(const PanelSource& source, int64_t rows, int64_t depth, int pad);
  const float* panel(int64_t i0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const override;
  int64_t bytes() const { return int64_t(storage_.size() * sizeof(float)); }

 private:
  int64_t rows_, depth_;
  int pad_;
  std::vector<float> storage_;
};

struct GemmEpilogue {
  const float* row_bias = nullptr;  // [M]: C[m, n] += row_bias[m]  (Conv's bias)
  const float* col_bias = nullptr;  // [N]: C[m, n] += col_bias[n]  (MatMul's / Gemm's bias)
  const float* residual = nullptr;  // C[m, n] += residual[m * ld_residual + n]
  int64_t ld_residual = 0;
  Activation activation;
  bool residual_after_activation = false;  // act(C + biases) + residual instead of act(C + biases + residual)
  bool accumulate = false;                  // C += A·B instead of C = A·B (a K split across calls)
};

// The tail of the conv epilogues that are not a GEMM's (Winograd, direct): adds `residual`
// (when not null) to `count` outputs and applies the activation, in the node's order.
void add_residual_and_activate(float* out, const float* residual, int64_t count, const Activation& activation,
                               bool residual_after_activation);

// C = epilogue(A · B). Runs on the shared thread pool unless `threaded` is false (callers
// that already split the work across threads). `kernel` (default: micro_kernel()) must be one
// of this CPU's, e.g. micro_kernel_for_rows(M), and A's packed panels must use its MR.
void gemm(int64_t M, int64_t N, int64_t K, const PanelSource& a, const PanelSource& b, float* C, int64_t ldc,
          const GemmEpilogue& epilogue, bool threaded = true, const MicroKernel* kernel = nullptr);

}  // namespace nnc::cpu
