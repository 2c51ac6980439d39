// backends/cuda/native_kernels.cu — the kernel table for a real GPU: the kernels of
// backends/cuda/kernels compiled by nvcc (sm_80, sm_90), launched on the device's stream.
#include "backends/cuda/launchers.cuh"

namespace nnc::cuda {
namespace {

struct NativeLaunch {
  template <class... Params, class... Args>
  static void run(void (*kernel)(Params...), dim3 grid, dim3 block, void* stream, Args... args) {
    kernel<<<grid, block, 0, static_cast<cudaStream_t>(stream)>>>(args...);
  }
};

}  // namespace

const KernelSet& native_kernels() {
  static const KernelSet table = Launchers<NativeLaunch>::table();
  return table;
}

}  // namespace nnc::cuda
