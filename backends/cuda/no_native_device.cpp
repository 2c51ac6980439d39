// backends/cuda/no_native_device.cpp — native_device() in builds without NNC_CUDA.
#include <stdexcept>

#include "backends/cuda/device.h"

namespace nnc::cuda {

std::shared_ptr<Device> native_device(std::string* why_not) {
  if (why_not) *why_not = "this nnc was built without CUDA (cmake -DNNC_CUDA=ON)";
  return nullptr;
}

const KernelSet& native_kernels() { throw std::logic_error("native_kernels: built without CUDA"); }

}  // namespace nnc::cuda
