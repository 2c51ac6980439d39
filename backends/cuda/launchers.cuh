// backends/cuda/launchers.cuh — the launch geometry of every kernel, written once. `Launch` is
// how a kernel starts: kernel<<<grid, block, 0, stream>>> in native_kernels.cu, the emulator in
// emulated_kernels.cpp; it provides
//   template <class... P, class... A> static void run(void (*kernel)(P...), dim3 grid, dim3 block, void* stream, A... args);
#pragma once

#include "backends/cuda/kernel_set.h"

namespace nnc::cuda {

inline unsigned blocks_for(long long count, int per_block) { return unsigned((count + per_block - 1) / per_block); }

template <class Problem>
dim3 gemm_grid(const Problem& p) {
  return dim3(blocks_for(p.N, kTileN), blocks_for(p.M, kTileM), unsigned(p.batch));
}

template <class Launch>
struct Launchers {
  static void conv_simt(const ConvF32Problem& p, void* stream) {
    Launch::run(simt_gemm_kernel<ConvF32Problem>, gemm_grid(p), dim3(kSimtThreads), stream, p);
  }
  static void conv_tensor_core_f16(const ConvF32Problem& p, void* stream) {
    Launch::run(mma_f16_gemm_kernel<ConvF32Problem>, gemm_grid(p), dim3(kMmaThreads), stream, p);
  }
  static void matmul_simt(const MatMulProblem& p, void* stream) {
    Launch::run(simt_gemm_kernel<MatMulProblem>, gemm_grid(p), dim3(kSimtThreads), stream, p);
  }
  static void matmul_tensor_core_f16(const MatMulProblem& p, void* stream) {
    Launch::run(mma_f16_gemm_kernel<MatMulProblem>, gemm_grid(p), dim3(kMmaThreads), stream, p);
  }
  template <class X, class Y>
  static void qconv(const QConvProblem<X, Y>& p, void* stream) {
    Launch::run(mma_s8_gemm_kernel<QConvProblem<X, Y>, std::is_same_v<X, uint8_t>>, gemm_grid(p), dim3(kMmaThreads),
                stream, p);
  }
  template <class A, class Y>
  static void qmatmul(const QMatMulProblem<A, Y>& p, void* stream) {
    Launch::run(mma_s8_gemm_kernel<QMatMulProblem<A, Y>, std::is_same_v<A, uint8_t>>, gemm_grid(p), dim3(kMmaThreads),
                stream, p);
  }
  static void group_norm(const GroupNormArgs& a, void* stream) {
    Launch::run(group_norm_kernel, dim3(unsigned(a.lanes)), dim3(kNormThreads), stream, a);
  }
  static void deform_attn(const DeformAttnArgs& a, void* stream) {
    const long long count = static_cast<long long>(a.B) * a.Q * a.M * a.D;
    Launch::run(deform_attn_kernel, dim3(blocks_for(count, kDeformThreads)), dim3(kDeformThreads), stream, a);
  }
  static void deform_conv_simt(const DeformConvProblem& p, void* stream) {
    Launch::run(simt_gemm_kernel<DeformConvProblem>, gemm_grid(p), dim3(kSimtThreads), stream, p);
  }
  static void deform_conv_tensor_core_f16(const DeformConvProblem& p, void* stream) {
    Launch::run(mma_f16_gemm_kernel<DeformConvProblem>, gemm_grid(p), dim3(kMmaThreads), stream, p);
  }
  static void softmax(const SoftmaxArgs& a, void* stream) {
    Launch::run(softmax_rows_kernel, dim3(blocks_for(a.rows, kRowWarps)), dim3(32 * kRowWarps), stream, a);
  }
  static void layer_norm(const LayerNormArgs& a, void* stream) {
    Launch::run(layer_norm_rows_kernel, dim3(blocks_for(a.rows, kRowWarps)), dim3(32 * kRowWarps), stream, a);
  }
  static void pool2d(const PoolArgs& a, void* stream) {
    Launch::run(pool2d_kernel, dim3(blocks_for(static_cast<long long>(a.NC) * a.OH * a.OW, kPixelThreads)),
                dim3(kPixelThreads), stream, a);
  }
  static void resize2d(const ResizeArgs& a, void* stream) {
    Launch::run(resize2d_kernel, dim3(blocks_for(static_cast<long long>(a.planes) * a.OH * a.OW, kPixelThreads)),
                dim3(kPixelThreads), stream, a);
  }
  static void grid_sample(const GridSampleArgs& a, void* stream) {
    const long long count = static_cast<long long>(a.N) * a.C * a.OH * a.OW;
    Launch::run(grid_sample_kernel, dim3(blocks_for(count, kPixelThreads)), dim3(kPixelThreads), stream, a);
  }
  static void binary(const BinaryArgs& a, void* stream) {
    Launch::run(binary_kernel, dim3(blocks_for(a.count, kElementThreads)), dim3(kElementThreads), stream, a);
  }
  static void unary(const UnaryArgs& a, void* stream) {
    Launch::run(unary_kernel, dim3(blocks_for(a.count, kElementThreads)), dim3(kElementThreads), stream, a);
  }

  static KernelSet table() {
    KernelSet t;
    t.conv_simt = &conv_simt;
    t.conv_tensor_core_f16 = &conv_tensor_core_f16;
    t.matmul_simt = &matmul_simt;
    t.matmul_tensor_core_f16 = &matmul_tensor_core_f16;
    t.qconv_u8_u8 = &qconv<uint8_t, uint8_t>;
    t.qconv_u8_s8 = &qconv<uint8_t, int8_t>;
    t.qconv_s8_u8 = &qconv<int8_t, uint8_t>;
    t.qconv_s8_s8 = &qconv<int8_t, int8_t>;
    t.qmatmul_u8_u8 = &qmatmul<uint8_t, uint8_t>;
    t.qmatmul_u8_s8 = &qmatmul<uint8_t, int8_t>;
    t.qmatmul_s8_u8 = &qmatmul<int8_t, uint8_t>;
    t.qmatmul_s8_s8 = &qmatmul<int8_t, int8_t>;
    t.deform_attn = &deform_attn;
    t.deform_conv_simt = &deform_conv_simt;
    t.deform_conv_tensor_core_f16 = &deform_conv_tensor_core_f16;
    t.softmax = &softmax;
    t.layer_norm = &layer_norm;
    t.group_norm = &group_norm;
    t.pool2d = &pool2d;
    t.resize2d = &resize2d;
    t.grid_sample = &grid_sample;
    t.binary = &binary;
    t.unary = &unary;
    return t;
  }
};

}  // namespace nnc::cuda
