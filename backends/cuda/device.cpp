// backends/cuda/device.cpp — the emulated device and DeviceBuffer (see device.h).
#include "backends/cuda/device.h"

#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>
#include <new>

namespace nnc::cuda {
namespace {

class EmulatedDevice final : public Device {
 public:
  std::string description() const override { return "CUDA emulator (CPU threads)"; }
  bool emulated() const override { return true; }
  int sm() const override { return 80; }
  void* allocate(size_t bytes) override { return ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t(256)); }
  void release(void* p) override { ::operator delete(p, std::align_val_t(256)); }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (bytes) std::memcpy(dst, src, bytes);
  }
  void synchronize() override {}
  void* stream() override { return nullptr; }
  const KernelSet& kernels() const override { return emulated_kernels(); }

  struct Recording final : Capture {
    std::vector<std::function<void()>> launches;
  };
  void begin_capture() override {
    if (emulated_recording()) throw std::logic_error("emulated device: a capture is already recording");
    emulated_recording() = std::make_unique<std::vector<std::function<void()>>>();
  }
  std::shared_ptr<Capture> end_capture() override {
    auto recording = std::make_shared<Recording>();
    if (emulated_recording()) recording->launches = std::move(*emulated_recording());
    emulated_recording().reset();
    return recording;
  }
  void replay(const Capture& capture) override {
    for (const auto& launch : static_cast<const Recording&>(capture).launches) launch();
  }
};

}  // namespace

std::shared_ptr<Device> emulated_device() {
  static const std::shared_ptr<Device> device = std::make_shared<EmulatedDevice>();
  return device;
}

DeviceBuffer::DeviceBuffer(std::shared_ptr<Device> device, size_t bytes)
    : pointer_(device->allocate(bytes), Release{device}), bytes_(bytes) {}

DeviceBuffer::~DeviceBuffer() = default;

DeviceBuffer DeviceBuffer::of(std::shared_ptr<Device> device, const void* host, size_t bytes) {
  DeviceBuffer b(device, bytes);
  device->upload(b.as<void>(), host, bytes);
  return b;
}

}  // namespace nnc::cuda
