// backends/cuda/emu/emulator.h — runs CUDA kernels on the CPU, so that every kernel of
// backends/cuda/kernels is tested on machines without a GPU (CI) with the same source the GPU runs.
//
// The model is CUDA's own, executed literally:
//   * the blocks of a grid run one after another;
//   * the threads of a block are real OS threads that meet at real barriers (__syncthreads);
//   * `__shared__` arrays are `static` storage inside the kernel: one copy per kernel
//     instantiation, shared by the threads of the block that is running — the way a block sees
//     its shared memory, and safe because only one block runs at a time;
//   * warp shuffles exchange values through a per-warp mailbox between two warp barriers;
//   * mma.sync (backends/cuda/kernels/fragments.cuh) gathers the 32 lanes' fragments the same
//     way and computes each lane's accumulators from the layouts the PTX ISA documents.
// A thread that returns early drops out of its block's and warp's barriers, as an exited GPU
// thread stops counting. Warp collectives must be reached by every live lane of the warp (our
// kernels call them outside divergent code, as the *_sync intrinsics require with a full mask).
//
// Emulated launches are serialised process-wide (shared memory is per kernel, not per launch).
#pragma once

#include <array>
#include <barrier>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <type_traits>
#include <vector>

// The CUDA keywords, for host code. `__shared__` is `static`: see above.
#define __global__ inline  // kernels live in headers: one definition across translation units
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

// Per emulated thread, as on the GPU.
inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace nnc::cuda::emu {

// What the threads of the running block share: its barrier, and per warp a barrier and a mailbox.
struct BlockState {
  explicit BlockState(unsigned threads);
  std::barrier<> block_barrier;
  std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
  std::vector<std::array<std::byte, 64>> mailbox;  // one 64-byte slot per thread of the block
};

inline thread_local BlockState* current_block = nullptr;
inline thread_local unsigned current_lane = 0, current_warp = 0;

void syncwarp();

// Runs `body` once per thread of every block of `grid`, each thread with its threadIdx etc. set.
// Throws std::invalid_argument for an empty grid or a block of more than 1024 threads.
void run_grid(dim3 grid, dim3 block, const std::function<void()>& body);

// A value from every lane of the warp: each lane posts `mine`, all lanes wait, `read` sees every
// lane's slot, all lanes wait again before the mailbox is reused.
template <class T, class Read>
auto warp_exchange(const T& mine, Read read) {
  static_assert(sizeof(T) <= 64 && std::is_trivially_copyable_v<T>);
  BlockState& b = *current_block;
  const unsigned base = current_warp * 32;
  std::memcpy(b.mailbox[base + current_lane].data(), &mine, sizeof(T));
  syncwarp();
  const auto lane_value = [&](unsigned lane) {
    T v;
    std::memcpy(&v, b.mailbox[base + lane].data(), sizeof(T));
    return v;
  };
  auto result = read(lane_value);
  syncwarp();
  return result;
}

}  // namespace nnc::cuda::emu

inline void __syncthreads() { nnc::cuda::emu::current_block->block_barrier.arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { nnc::cuda::emu::syncwarp(); }

template <class T>
T __shfl_sync(unsigned, T v, int src_lane, int width = 32) {
  const unsigned lane = nnc::cuda::emu::current_lane;
  const unsigned src = (lane / unsigned(width)) * unsigned(width) + unsigned(src_lane) % unsigned(width);
  return nnc::cuda::emu::warp_exchange(v, [&](auto lane_value) { return lane_value(src); });
}
template <class T>
T __shfl_xor_sync(unsigned, T v, int lane_mask, int width = 32) {
  const unsigned lane = nnc::cuda::emu::current_lane;
  unsigned src = lane ^ unsigned(lane_mask);
  if (src / unsigned(width) != lane / unsigned(width)) src = lane;  // outside the segment: own value
  return nnc::cuda::emu::warp_exchange(v, [&](auto lane_value) { return lane_value(src); });
}
template <class T>
T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
  const unsigned lane = nnc::cuda::emu::current_lane;
  const unsigned src = (lane % unsigned(width)) + delta < unsigned(width) ? lane + delta : lane;
  return nnc::cuda::emu::warp_exchange(v, [&](auto lane_value) { return lane_value(src); });
}

namespace nnc::cuda::emu {

// Launches `kernel(args...)` over the grid, like kernel<<<grid, block>>>(args...), and returns
// when every thread has finished.
template <class... Params, class... Args>
void launch(void (*kernel)(Params...), dim3 grid, dim3 block, Args... args) {
  run_grid(grid, block, [&] { kernel(args...); });
}

}  // namespace nnc::cuda::emu
