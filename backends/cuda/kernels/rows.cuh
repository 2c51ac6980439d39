// backends/cuda/kernels/rows.cuh — ops that reduce along the last axis: Softmax and
// LayerNormalization. One warp per row: each lane strides over the row, the partial results
// meet through butterfly shuffles (__shfl_xor_sync), so every lane ends with the whole row's
// value and no shared memory is needed. Rows are independent: 4 warps per block, grid over rows.
#pragma once

#include "backends/cuda/kernels/epilogue.cuh"

namespace nnc::cuda {

constexpr int kRowWarps = 4;

__device__ __forceinline__ float warp_sum(float v) {
  for (int mask = 16; mask > 0; mask /= 2) v += __shfl_xor_sync(0xffffffffu, v, mask);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int mask = 16; mask > 0; mask /= 2) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, mask));
  return v;
}

struct SoftmaxArgs {
  const float* x = nullptr;
  float* y = nullptr;
  long long rows = 0;
  int width = 0;
  bool log = false;  // LogSoftmax
};

inline namespace NNC_KERNEL_WORLD {
__global__ void softmax_rows_kernel(SoftmaxArgs a) {
  const long long row = static_cast<long long>(blockIdx.x) * kRowWarps + warp_index();
  const int lane = int(lane_index());
  // Every lane of the warp takes part in the shuffles, even past the last row (no early return).
  const bool live = row < a.rows;
  const float* x = a.x + (live ? row : 0) * a.width;
  float largest = -INFINITY;
  for (int i = lane; i < a.width; i += 32) largest = fmaxf(largest, x[i]);
  largest = warp_max(largest);
  float sum = 0.0f;
  for (int i = lane; i < a.width; i += 32) sum += expf(x[i] - largest);
  sum = warp_sum(sum);
  if (!live) return;
  float* y = a.y + row * a.width;
  if (a.log) {
    const float log_sum = logf(sum);
    for (int i = lane; i < a.width; i += 32) y[i] = x[i] - largest - log_sum;
  } else {
    const float inverse = 1.0f / sum;
    for (int i = lane; i < a.width; i += 32) y[i] = expf(x[i] - largest) * inverse;
  }
}
}  // namespace NNC_KERNEL_WORLD

struct LayerNormArgs {
  const float* x = nullptr;
  const float* scale = nullptr;  // [width]
  const float* bias = nullptr;   // [width] or null
  float* y = nullptr;
  long long rows = 0;
  int width = 0;
  float epsilon = 1e-5f;
};

// Two passes over the row (mean, then the mean of squared deviations): as exact as the
// reference's, without the cancellation of E[x²] − E[x]².
inline namespace NNC_KERNEL_WORLD {
__global__ void layer_norm_rows_kernel(LayerNormArgs a) {
  const long long row = static_cast<long long>(blockIdx.x) * kRowWarps + warp_index();
  const int lane = int(lane_index());
  const bool live = row < a.rows;
  const float* x = a.x + (live ? row : 0) * a.width;
  float sum = 0.0f;
  for (int i = lane; i < a.width; i += 32) sum += x[i];
  const float mean = warp_sum(sum) / float(a.width);
  float squares = 0.0f;
  for (int i = lane; i < a.width; i += 32) squares += (x[i] - mean) * (x[i] - mean);
  const float inv_std = 1.0f / sqrtf(warp_sum(squares) / float(a.width) + a.epsilon);
  if (!live) return;
  float* y = a.y + row * a.width;
  for (int i = lane; i < a.width; i += 32) y[i] = (x[i] - mean) * inv_std * a.scale[i] + (a.bias ? a.bias[i] : 0.0f);
}
}  // namespace NNC_KERNEL_WORLD

// GroupNormalization and InstanceNormalization (groups = channels): one block of 256 threads per
// (image, group) lane of per_group · spatial elements, reduced by warp shuffles then across the
// block's warps through shared memory; the fused activation applied on the write.
constexpr int kNormThreads = 256;

struct GroupNormArgs {
  const float* x = nullptr;
  const float* scale = nullptr;  // [channels], or [groups] when !per_channel
  const float* bias = nullptr;
  float* y = nullptr;
  int lanes = 0, groups = 1, per_group = 1;
  long long spatial = 1;
  bool per_channel = true;
  float epsilon = 1e-5f;
  Activation act;
};

// The sum of `v` over the block; `partial` is the kernel's __shared__ float[32].
__device__ __forceinline__ float block_sum(float v, float* partial) {
  v = warp_sum(v);
  if (lane_index() == 0) partial[warp_index()] = v;
  __syncthreads();
  float total = 0.0f;
  for (unsigned w = 0; w < blockDim.x / 32; ++w) total += partial[w];
  __syncthreads();  // partial is free again
  return total;
}

inline namespace NNC_KERNEL_WORLD {
__global__ void group_norm_kernel(GroupNormArgs a) {
  __shared__ float partial[32];
  const int lane = int(blockIdx.x), group = lane % a.groups;
  const long long count = a.per_group * a.spatial;
  const float* x = a.x + lane * count;
  float* y = a.y + lane * count;
  float sum = 0.0f;
  for (long long i = threadIdx.x; i < count; i += blockDim.x) sum += x[i];
  const float mean = block_sum(sum, partial) / float(count);
  float squares = 0.0f;
  for (long long i = threadIdx.x; i < count; i += blockDim.x) squares += (x[i] - mean) * (x[i] - mean);
  const float inv_std = 1.0f / sqrtf(block_sum(squares, partial) / float(count) + a.epsilon);
  for (long long i = threadIdx.x; i < count; i += blockDim.x) {
    const int at = a.per_channel ? group * a.per_group + int(i / a.spatial) : group;
    y[i] = activate(a.act, (x[i] - mean) * inv_std * a.scale[at] + a.bias[at]);
  }
}
}  // namespace NNC_KERNEL_WORLD

}  // namespace nnc::cuda
