// backends/cuda/node_kernel.cpp — CudaNodeKernel::run, alone or within a DeviceResidency.
#include "backends/cuda/node_kernel.h"

#include "backends/cuda/residency.h"

namespace nnc::cuda {

// Alone: every input asked for is uploaded into a scratch buffer; outputs go to scratch buffers
// and come back when the kernel has run.
class CudaNodeKernel::ScratchIo final : public DeviceIo {
 public:
  ScratchIo(const CudaNodeKernel& kernel, KernelContext& k) : kernel_(kernel), k_(k) {}
  const void* input(int i) override {
    void* d = scratch(size_t(i), k_.in(i).nbytes());
    kernel_.device_->upload(d, k_.in(i).bytes(), k_.in(i).nbytes());
    return d;
  }
  void* output(int o) override {
    written_.push_back(o);
    return scratch(k_.inputs.size() + size_t(o), k_.out(o).nbytes());
  }
  void finish() {
    for (int o : written_)
      kernel_.device_->download(k_.out(o).bytes(), kernel_.scratch_[k_.inputs.size() + size_t(o)].as<void>(),
                                k_.out(o).nbytes());
    kernel_.device_->synchronize();
  }

 private:
  void* scratch(size_t slot, size_t bytes) {
    auto& buffers = kernel_.scratch_;
    if (buffers.size() <= slot) buffers.resize(slot + 1);
    if (buffers[slot].bytes() < bytes) buffers[slot] = DeviceBuffer(kernel_.device_, std::max<size_t>(bytes, 1));
    return buffers[slot].as<void>();
  }
  const CudaNodeKernel& kernel_;
  KernelContext& k_;
  std::vector<int> written_;
};

// Within a whole-model run: the residency knows where each value is current.
class CudaNodeKernel::ResidentIo final : public DeviceIo {
 public:
  ResidentIo(DeviceResidency& r, KernelContext& k) : r_(r), k_(k) {}
  const void* input(int i) override { return r_.device_input(k_.node.inputs[size_t(i)], k_.in(i)); }
  void* output(int o) override {
    written_.push_back(o);
    return r_.device_output(k_.node.outputs[size_t(o)], k_.out(o));
  }
  void finish() {
    if (r_.synchronize_every_node()) r_.device()->synchronize();
    for (int o : written_) r_.written_on_device(k_.node.outputs[size_t(o)], k_.out(o));
  }

 private:
  DeviceResidency& r_;
  KernelContext& k_;
  std::vector<int> written_;
};

void CudaNodeKernel::run(KernelContext& k) const {
  std::lock_guard lock(mutex_);
  DeviceResidency* residency = DeviceResidency::current();
  if (residency && residency->device() == device_) {
    ResidentIo io(*residency, k);
    enqueue(k, io);
    io.finish();
    return;
  }
  ScratchIo io(*this, k);
  enqueue(k, io);
  io.finish();
}

}  // namespace nnc::cuda
