// backends/cuda/node_kernel.h — what every CUDA tactic's NodeKernel shares: the device, the
// constants it uploaded once, and device copies of the inputs and outputs of a run.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "backends/cuda/device.h"
#include "backends/cuda/kernel_set.h"
#include "ops/interpreter.h"

namespace nnc::cuda {

// Where a CUDA kernel finds this run's inputs and puts its outputs, in device memory. Inputs are
// moved to the device only when asked for: the constants a kernel uploaded in prepare are not.
class DeviceIo {
 public:
  virtual ~DeviceIo() = default;
  virtual const void* input(int i) = 0;
  virtual void* output(int o) = 0;
  template <class T>
  const T* in(int i) { return static_cast<const T*>(input(i)); }
  template <class T>
  T* out(int o) { return static_cast<T*>(output(o)); }
};

class CudaNodeKernel : public NodeKernel {
 public:
  CudaNodeKernel(std::string_view tactic, std::shared_ptr<Device> device) : tactic_(tactic), device_(std::move(device)) {}
  std::string_view tactic() const override { return tactic_; }
  int64_t held_bytes() const override { return held_bytes_; }
  // Within a whole-model run (DeviceResidency::current() on this device) the tensors stay on the
  // device between CUDA nodes; alone (the tuner, run_node) the kernel uploads what it reads,
  // launches, downloads its outputs and waits.
  void run(KernelContext& k) const final;
  const std::shared_ptr<Device>& device() const { return device_; }

 protected:
  // Queues the node's work on the device's stream.
  virtual void enqueue(KernelContext& k, DeviceIo& io) const = 0;

  const KernelSet& kernels() const { return device_->kernels(); }
  void* stream() const { return device_->stream(); }

  // A constant kept on the device for the kernel's lifetime (weights, tap tables).
  template <class T>
  const T* keep(const T* host, size_t count) {
    constants_.push_back(DeviceBuffer::of(device_, host, count * sizeof(T)));
    held_bytes_ += int64_t(count * sizeof(T));
    return constants_.back().as<const T>();
  }
  template <class T>
  const T* keep(const std::vector<T>& host) { return keep(host.data(), host.size()); }
  const void* keep(const Tensor& t) {
    constants_.push_back(DeviceBuffer::of(device_, t.bytes(), t.nbytes()));
    held_bytes_ += int64_t(t.nbytes());
    return constants_.back().as<const void>();
  }

 private:
  class ScratchIo;
  class ResidentIo;

  std::string_view tactic_;
  std::shared_ptr<Device> device_;
  std::vector<DeviceBuffer> constants_;
  int64_t held_bytes_ = 0;
  mutable std::mutex mutex_;
  mutable std::vector<DeviceBuffer> scratch_;  // a run's inputs and outputs when alone
};

// ops/epilogue.h's activation of a node, as the kernels read it.
Activation activation_of(const Node& node);

// Why a node's input/output is not an f32 tensor of known shape ("" when it is).
std::string f32_known_rejects(const Graph& graph, const Node& node);

// The settings check every CUDA tactic's rejects() starts with: "" when a device is in use.
std::string device_rejects();

}  // namespace nnc::cuda
