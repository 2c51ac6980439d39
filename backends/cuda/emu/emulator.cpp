// backends/cuda/emu/emulator.cpp — see emulator.h.
#include "backends/cuda/emu/emulator.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

namespace nnc::cuda::emu {

BlockState::BlockState(unsigned threads) : block_barrier(std::ptrdiff_t(threads)), mailbox(threads) {
  for (unsigned first = 0; first < threads; first += 32)
    warp_barriers.push_back(std::make_unique<std::barrier<>>(std::ptrdiff_t(std::min(32u, threads - first))));
}

void syncwarp() { current_block->warp_barriers[current_warp]->arrive_and_wait(); }

namespace {
std::mutex launch_mutex;  // one emulated launch at a time: __shared__ storage is per kernel
}

void run_grid(dim3 grid, dim3 block, const std::function<void()>& body) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  const uint64_t blocks = uint64_t(grid.x) * grid.y * grid.z;
  if (threads == 0 || threads > 1024)
    throw std::invalid_argument("emulated launch: a block of " + std::to_string(threads) + " threads (1 to 1024)");
  if (blocks == 0) throw std::invalid_argument("emulated launch: an empty grid");
  std::lock_guard lock(launch_mutex);

  // The block's threads are created once per launch and run block after block: the workers
  // and the launching thread meet at `start` before each block and at `finish` after it.
  std::unique_ptr<BlockState> state;
  dim3 next_block;
  bool done = false;
  std::barrier<> start(std::ptrdiff_t(threads + 1)), finish(std::ptrdiff_t(threads + 1));
  std::vector<std::jthread> workers;
  workers.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      threadIdx = dim3(t % block.x, (t / block.x) % block.y, t / (block.x * block.y));
      blockDim = block;
      gridDim = grid;
      current_lane = t % 32;
      current_warp = t / 32;
      for (;;) {
        start.arrive_and_wait();
        if (done) return;
        blockIdx = next_block;
        current_block = state.get();
        body();
        // An exited thread no longer holds back the barriers of the threads still running.
        state->block_barrier.arrive_and_drop();
        state->warp_barriers[current_warp]->arrive_and_drop();
        finish.arrive_and_wait();
      }
    });
  }
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        state = std::make_unique<BlockState>(unsigned(threads));
        next_block = dim3(x, y, z);
        start.arrive_and_wait();
        finish.arrive_and_wait();
      }
  done = true;
  start.arrive_and_wait();
}

}  // namespace nnc::cuda::emu
