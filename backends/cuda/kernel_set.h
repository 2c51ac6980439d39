// backends/cuda/kernel_set.h — every CUDA kernel nnc has, as a table of host functions that
// launch it on a stream. Two tables exist: the native one (native_kernels.cu, compiled by nvcc,
// only in builds with NNC_CUDA) and the emulated one (emulated_kernels.cpp, compiled by the host
// compiler against backends/cuda/emu, in every build). Both come from one template
// (launchers.cuh), so the launch geometry the tests check is the one the GPU uses.
#pragma once

#include <cstdint>

#include "backends/cuda/device.h"
#include "backends/cuda/kernels/conv.cuh"
#include "backends/cuda/kernels/deform.cuh"
#include "backends/cuda/kernels/elementwise.cuh"
#include "backends/cuda/kernels/image_ops.cuh"
#include "backends/cuda/kernels/matmul.cuh"
#include "backends/cuda/kernels/rows.cuh"

namespace nnc::cuda {

template <class X, class Y>
using QConvLaunch = void (*)(const QConvProblem<X, Y>&, void* stream);
template <class A, class Y>
using QMatMulLaunch = void (*)(const QMatMulProblem<A, Y>&, void* stream);

struct KernelSet {
  // f32 tensors; CUDA cores in f32, or Tensor Cores with operands rounded to f16.
  void (*conv_simt)(const ConvF32Problem&, void* stream);
  void (*conv_tensor_core_f16)(const ConvF32Problem&, void* stream);
  void (*matmul_simt)(const MatMulProblem&, void* stream);
  void (*matmul_tensor_core_f16)(const MatMulProblem&, void* stream);
  // 8-bit QLinearConv on Tensor Cores, one entry per (x, y) type pair.
  QConvLaunch<uint8_t, uint8_t> qconv_u8_u8;
  QConvLaunch<uint8_t, int8_t> qconv_u8_s8;
  QConvLaunch<int8_t, uint8_t> qconv_s8_u8;
  QConvLaunch<int8_t, int8_t> qconv_s8_s8;
  // 8-bit QLinearMatMul on Tensor Cores, likewise.
  QMatMulLaunch<uint8_t, uint8_t> qmatmul_u8_u8;
  QMatMulLaunch<uint8_t, int8_t> qmatmul_u8_s8;
  QMatMulLaunch<int8_t, uint8_t> qmatmul_s8_u8;
  QMatMulLaunch<int8_t, int8_t> qmatmul_s8_s8;
  // The deformable ops: attention per output element; DeformConv on the CUDA-core or f16 engine.
  void (*deform_attn)(const DeformAttnArgs&, void* stream);
  void (*deform_conv_simt)(const DeformConvProblem&, void* stream);
  void (*deform_conv_tensor_core_f16)(const DeformConvProblem&, void* stream);
  void (*softmax)(const SoftmaxArgs&, void* stream);
  void (*layer_norm)(const LayerNormArgs&, void* stream);
  void (*group_norm)(const GroupNormArgs&, void* stream);
  void (*pool2d)(const PoolArgs&, void* stream);
  void (*resize2d)(const ResizeArgs&, void* stream);
  void (*grid_sample)(const GridSampleArgs&, void* stream);
  void (*binary)(const BinaryArgs&, void* stream);
  void (*unary)(const UnaryArgs&, void* stream);
};


}  // namespace nnc::cuda
