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

class CudaNodeKernel : public NodeKernel {
 public:
  CudaNodeKernel(std::string_view tactic, std::shared_ptr<Device> device) : tactic_(tactic), device_(std::move(device)) {}
  std::string_view tactic() const override { return tactic_; }
  int64_t held_bytes() const override { return held_bytes_; }
  // Uploads, launches and downloads under a lock (one run at a time owns the scratch buffers).
  void run(KernelContext& k) const final {
    std::lock_guard lock(mutex_);
    launch(k);
    device_->synchronize();
  }

 protected:
  // Queues the node's work: upload inputs, launch, download outputs.
  virtual void launch(KernelContext& k) const = 0;

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

  // Scratch slot `slot` holding a copy of input `i` of this run.
  template <class T>
  const T* upload_input(KernelContext& k, int i, size_t slot) const {
    void* d = scratch(slot, k.in(i).nbytes());
    device_->upload(d, k.in(i).bytes(), k.in(i).nbytes());
    return static_cast<const T*>(d);
  }
  // Scratch slot `slot` sized for output `o`; download_output copies it back.
  template <class T>
  T* output_buffer(KernelContext& k, int o, size_t slot) const {
    return static_cast<T*>(scratch(slot, k.out(o).nbytes()));
  }
  void download_output(KernelContext& k, int o, size_t slot) const {
    device_->download(k.out(o).bytes(), scratch_[slot].as<void>(), k.out(o).nbytes());
  }

 private:
  void* scratch(size_t slot, size_t bytes) const {
    if (scratch_.size() <= slot) scratch_.resize(slot + 1);
    if (scratch_[slot].bytes() < bytes) scratch_[slot] = DeviceBuffer(device_, bytes);
    return scratch_[slot].as<void>();
  }

  std::string_view tactic_;
  std::shared_ptr<Device> device_;
  std::vector<DeviceBuffer> constants_;
  int64_t held_bytes_ = 0;
  mutable std::mutex mutex_;
  mutable std::vector<DeviceBuffer> scratch_;
};

// ops/epilogue.h's activation of a node, as the kernels read it.
Activation activation_of(const Node& node);

// Why a node's input/output is not an f32 tensor of known shape ("" when it is).
std::string f32_known_rejects(const Graph& graph, const Node& node);

// The settings check every CUDA tactic's rejects() starts with: "" when a device is in use.
std::string device_rejects();

}  // namespace nnc::cuda
