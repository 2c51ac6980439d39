// backends/cuda/kernels/elementwise.cuh — f32 binary ops with NumPy broadcasting, and unary
// ops (the activations of epilogue.cuh and a few maths functions). One thread per output element;
// a broadcast input reads with stride 0 along the axes it lacks.
#pragma once

#include "backends/cuda/kernels/epilogue.cuh"

namespace nnc::cuda {

constexpr int kMaxRank = 8;
constexpr int kElementThreads = 256;

enum class BinaryOp : int { Add, Sub, Mul, Div, Max, Min, Pow };

struct BinaryArgs {
  const float* a = nullptr;
  const float* b = nullptr;
  float* y = nullptr;
  long long count = 0;
  int rank = 0;
  long long dims[kMaxRank] = {};                       // the output's dims
  long long a_stride[kMaxRank] = {}, b_stride[kMaxRank] = {};  // 0 where that input broadcasts
  BinaryOp op = BinaryOp::Add;
  Activation act;  // a fused activation (passes/fuse_activations) or None
};

__device__ __forceinline__ float binary(BinaryOp op, float a, float b) {
  switch (op) {
    case BinaryOp::Add: return a + b;
    case BinaryOp::Sub: return a - b;
    case BinaryOp::Mul: return a * b;
    case BinaryOp::Div: return a / b;
    case BinaryOp::Max: return (a != a || b != b) ? a + b : fmaxf(a, b);  // NaN propagates, as in ONNX
    case BinaryOp::Min: return (a != a || b != b) ? a + b : fminf(a, b);
    case BinaryOp::Pow: return powf(a, b);
  }
  return 0.0f;
}

inline namespace NNC_KERNEL_WORLD {
__global__ void binary_kernel(BinaryArgs p) {
  long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.count) return;
  long long rest = i, ai = 0, bi = 0;
  for (int d = p.rank - 1; d >= 0; --d) {
    const long long coordinate = rest % p.dims[d];
    rest /= p.dims[d];
    ai += coordinate * p.a_stride[d];
    bi += coordinate * p.b_stride[d];
  }
  p.y[i] = activate(p.act, binary(p.op, p.a[ai], p.b[bi]));
}
}  // namespace NNC_KERNEL_WORLD

enum class UnaryOp : int { Activation, Exp, Log, Sqrt, Abs, Neg, Reciprocal, Erf };

struct UnaryArgs {
  const float* x = nullptr;
  float* y = nullptr;
  long long count = 0;
  UnaryOp op = UnaryOp::Activation;
  Activation act;  // for UnaryOp::Activation
};

inline namespace NNC_KERNEL_WORLD {
__global__ void unary_kernel(UnaryArgs p) {
  const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= p.count) return;
  const float v = p.x[i];
  float r = v;
  switch (p.op) {
    case UnaryOp::Activation: r = activate(p.act, v); break;
    case UnaryOp::Exp: r = expf(v); break;
    case UnaryOp::Log: r = logf(v); break;
    case UnaryOp::Sqrt: r = sqrtf(v); break;
    case UnaryOp::Abs: r = fabsf(v); break;
    case UnaryOp::Neg: r = -v; break;
    case UnaryOp::Reciprocal: r = 1.0f / v; break;
    case UnaryOp::Erf: r = erff(v); break;
  }
  p.y[i] = r;
}
}  // namespace NNC_KERNEL_WORLD

}  // namespace nnc::cuda
