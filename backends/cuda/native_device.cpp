// backends/cuda/native_device.cpp — a real GPU through the CUDA runtime (builds with NNC_CUDA).
//
// One stream per device. Host data travels through pinned staging buffers, so copies are true
// DMA transfers queued on the stream: an upload copies into the staging buffer and queues the
// transfer (waiting first for the previous upload from that buffer); a download queues the
// transfer into staging, waits for the stream, then copies out.
#include <cuda_runtime.h>

#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

#include "backends/cuda/device.h"

namespace nnc::cuda {
namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

class PinnedBuffer {
 public:
  ~PinnedBuffer() {
    if (data_) cudaFreeHost(data_);
  }
  void* reserve(size_t bytes) {
    if (bytes > capacity_) {
      if (data_) check(cudaFreeHost(data_), "cudaFreeHost");
      data_ = nullptr;
      check(cudaMallocHost(&data_, bytes), "cudaMallocHost (pinned staging)");
      capacity_ = bytes;
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  size_t capacity_ = 0;
};

class NativeDevice final : public Device {
 public:
  explicit NativeDevice(int ordinal) : ordinal_(ordinal) {
    check(cudaSetDevice(ordinal), "cudaSetDevice");
    check(cudaGetDeviceProperties(&properties_, ordinal), "cudaGetDeviceProperties");
    check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreateWithFlags(&upload_done_, cudaEventDisableTiming), "cudaEventCreate");
  }
  ~NativeDevice() override {
    cudaStreamSynchronize(stream_);
    cudaEventDestroy(upload_done_);
    cudaStreamDestroy(stream_);
  }
  std::string description() const override {
    return std::string(properties_.name) + " (sm_" + std::to_string(sm()) + ", " +
           std::to_string(properties_.totalGlobalMem >> 20) + " MiB)";
  }
  bool emulated() const override { return false; }
  int sm() const override { return properties_.major * 10 + properties_.minor; }
  void* allocate(size_t bytes) override {
    void* p = nullptr;
    check(cudaMallocAsync(&p, bytes == 0 ? 1 : bytes, stream_), "cudaMallocAsync");
    return p;
  }
  void release(void* p) override { cudaFreeAsync(p, stream_); }
  void upload(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    std::lock_guard lock(mutex_);
    check(cudaEventSynchronize(upload_done_), "waiting for the previous upload");
    std::memcpy(upload_staging_.reserve(bytes), src, bytes);
    check(cudaMemcpyAsync(dst, upload_staging_.reserve(bytes), bytes, cudaMemcpyHostToDevice, stream_), "upload");
    check(cudaEventRecord(upload_done_, stream_), "cudaEventRecord");
  }
  void download(void* dst, const void* src, size_t bytes) override {
    if (!bytes) return;
    std::lock_guard lock(mutex_);
    void* staging = download_staging_.reserve(bytes);
    check(cudaMemcpyAsync(staging, src, bytes, cudaMemcpyDeviceToHost, stream_), "download");
    check(cudaStreamSynchronize(stream_), "a kernel or copy on the stream");
    std::memcpy(dst, staging, bytes);
  }
  void synchronize() override {
    check(cudaGetLastError(), "kernel launch");
    check(cudaStreamSynchronize(stream_), "a kernel or copy on the stream");
  }
  void* stream() override { return stream_; }
  const KernelSet& kernels() const override { return native_kernels(); }

  struct Graph final : Capture {
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    ~Graph() override {
      if (exec) cudaGraphExecDestroy(exec);
      if (graph) cudaGraphDestroy(graph);
    }
  };
  void begin_capture() override {
    check(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
  }
  std::shared_ptr<Capture> end_capture() override {
    auto g = std::make_shared<Graph>();
    check(cudaStreamEndCapture(stream_, &g->graph), "cudaStreamEndCapture");
    check(cudaGraphInstantiate(&g->exec, g->graph, 0), "cudaGraphInstantiate");
    return g;
  }
  void replay(const Capture& capture) override {
    check(cudaGraphLaunch(static_cast<const Graph&>(capture).exec, stream_), "cudaGraphLaunch");
  }

 private:
  int ordinal_;
  cudaDeviceProp properties_{};
  cudaStream_t stream_{};
  cudaEvent_t upload_done_{};
  std::mutex mutex_;
  PinnedBuffer upload_staging_, download_staging_;
};

}  // namespace

std::shared_ptr<Device> native_device(std::string* why_not) {
  static std::once_flag once;
  static std::shared_ptr<Device> device;
  static std::string reason;
  std::call_once(once, [] {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      reason = std::string("no usable CUDA driver (") + cudaGetErrorString(e) + ")";
      return;
    }
    if (count == 0) {
      reason = "no CUDA device";
      return;
    }
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess || p.major < 8) {
      reason = std::string("the GPU (") + p.name + ", sm_" + std::to_string(p.major * 10 + p.minor) +
               ") is older than sm_80, the oldest this nnc is built for";
      return;
    }
    try {
      device = std::make_shared<NativeDevice>(0);
    } catch (const std::exception& ex) {
      reason = ex.what();
    }
  });
  if (!device && why_not) *why_not = reason;
  return device;
}

}  // namespace nnc::cuda
