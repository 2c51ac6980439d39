// backends/cuda/device.h — where CUDA kernels run: a real GPU, or the emulator.
//
// A Device owns memory, one stream and the kernel table for it. The emulated device keeps its
// "device memory" in host memory and runs kernels on CPU threads; everything above this
// interface (the tactics, their uploads, launches and downloads) is the same code for both, so
// the tests that run on the emulator exercise the path a GPU takes.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>
#include <memory>
#include <string>

namespace nnc::cuda {

// backends/cuda/kernel_set.h (not included here: that header brings in the kernels, and with
// them the emulator's CUDA keywords, which must stay out of code that includes cuda_runtime.h).
struct KernelSet;
const KernelSet& emulated_kernels();
const KernelSet& native_kernels();  // only in builds with NNC_CUDA

class Device {
 public:
  virtual ~Device() = default;
  // "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" or "CUDA emulator (CPU threads)".
  virtual std::string description() const = 0;
  virtual bool emulated() const = 0;
  virtual int sm() const = 0;  // compute capability as 10 · major + minor (the emulator says 80)
  virtual void* allocate(size_t bytes) = 0;  // throws std::runtime_error when out of memory
  virtual void release(void* p) = 0;
  // Copies on the device's stream (host buffers are staged through pinned memory).
  virtual void upload(void* device_dst, const void* host_src, size_t bytes) = 0;
  virtual void download(void* host_dst, const void* device_src, size_t bytes) = 0;
  // Waits for the stream; throws std::runtime_error naming the failure a kernel reported.
  virtual void synchronize() = 0;
  virtual void* stream() = 0;
  virtual const KernelSet& kernels() const = 0;

  // Recording a sequence of launches once and replaying it (a CUDA graph): between
  // begin_capture and end_capture launches are recorded, not run, and nothing may be copied or
  // waited for; replay queues the whole recording on the stream, in order.
  class Capture {
   public:
    virtual ~Capture() = default;
  };
  virtual void begin_capture() = 0;
  virtual std::shared_ptr<Capture> end_capture() = 0;
  virtual void replay(const Capture& capture) = 0;
};

// The emulator, always available.
std::shared_ptr<Device> emulated_device();
// Where the emulator's launches go while this thread captures: recorded here instead of run.
std::unique_ptr<std::vector<std::function<void()>>>& emulated_recording();

// The first CUDA GPU, or nullptr with `why_not` saying why ("nnc was built without CUDA",
// "no CUDA driver", "no CUDA device", ...). Asks the driver once per process.
std::shared_ptr<Device> native_device(std::string* why_not = nullptr);

// Device memory that frees itself.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(std::shared_ptr<Device> device, size_t bytes);
  DeviceBuffer(DeviceBuffer&&) noexcept = default;
  DeviceBuffer& operator=(DeviceBuffer&&) noexcept = default;
  ~DeviceBuffer();
  // A buffer holding a copy of host bytes.
  static DeviceBuffer of(std::shared_ptr<Device> device, const void* host, size_t bytes);
  template <class T>
  T* as() const { return static_cast<T*>(pointer_.get()); }
  size_t bytes() const { return bytes_; }

 private:
  struct Release {
    std::shared_ptr<Device> device;
    void operator()(void* p) const {
      if (p) device->release(p);
    }
  };
  std::unique_ptr<void, Release> pointer_;
  size_t bytes_ = 0;
};

}  // namespace nnc::cuda
