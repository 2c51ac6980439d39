// backends/cuda/emulated_kernels.cpp — the kernel table run by the emulator (backends/cuda/emu):
// the same kernel source and launch geometry as native_kernels.cu, on CPU threads.
#include "backends/cuda/launchers.cuh"

namespace nnc::cuda {
namespace {

struct EmulatedLaunch {
  template <class... Params, class... Args>
  static void run(void (*kernel)(Params...), dim3 grid, dim3 block, void*, Args... args) {
    if (auto& recording = emulated_recording()) {  // capturing: run it at replay
      recording->push_back([=] { emu::launch(kernel, grid, block, args...); });
      return;
    }
    emu::launch(kernel, grid, block, args...);
  }
};

}  // namespace

std::unique_ptr<std::vector<std::function<void()>>>& emulated_recording() {
  thread_local std::unique_ptr<std::vector<std::function<void()>>> recording;
  return recording;
}

const KernelSet& emulated_kernels() {
  static const KernelSet table = Launchers<EmulatedLaunch>::table();
  return table;
}

}  // namespace nnc::cuda
