// backends/cuda/residency.h — tensors that stay on the GPU between CUDA nodes.
//
// Run node by node, a CUDA kernel alone would upload its inputs and download its outputs every
// time. During a whole-model run (Session::run) a DeviceResidency tracks, per value, whether its
// bytes are current in host memory, in device memory, or both, and moves them only when the other
// side needs them: a CUDA node uploads only inputs the device lacks and leaves its outputs on the
// device; a CPU node first downloads the inputs the host lacks (InterpreterOptions::before_node);
// the graph's outputs come home at the end. Intermediates live in one device arena laid out by
// the same memory plan as the host arena (same offsets), so a zero-copy Concat is zero-copy on
// the device too. Tensors a tap must see (nnc compare, --dump-tensor) are downloaded at once.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "backends/cuda/device.h"
#include "core/graph.h"
#include "core/memory_plan.h"
#include "core/transfer_stats.h"
#include "ops/interpreter.h"

namespace nnc::cuda {

class DeviceResidency {
 public:
  // `kernels` as in InterpreterOptions; `plan` may be null. `download_every_output`: make every
  // CUDA node's outputs current on the host as soon as it ran (taps read them).
  DeviceResidency(const Graph& graph, const MemoryPlan* plan, std::span<const NodeKernel* const> kernels,
                  std::shared_ptr<Device> device, bool download_every_output, bool synchronize_every_node);
  const std::shared_ptr<Device>& device() const { return device_; }
  bool synchronize_every_node() const { return synchronize_every_node_; }

  // Whether any node of `kernels` runs on a CUDA device (then Session::run makes a residency).
  static bool any_cuda(std::span<const NodeKernel* const> kernels);

  // The residency of the run in progress on this thread, or null (CUDA kernels then copy in
  // and out themselves). Active installs one for its lifetime.
  static DeviceResidency* current();
  class Active {
   public:
    explicit Active(DeviceResidency& r);
    ~Active();
    Active(const Active&) = delete;
    Active& operator=(const Active&) = delete;

   private:
    DeviceResidency* previous_;
  };

  // For CUDA kernels: value v's current bytes on the device (uploaded from `host` if stale).
  const void* device_input(ValueId v, const Tensor& host);
  // Where value v lives on the device; the kernel writes there, then calls written_on_device.
  void* device_output(ValueId v, const Tensor& host);
  void written_on_device(ValueId v, Tensor& host);

  // InterpreterOptions::before_node: brings a CPU node's inputs home; a skipped Concat's output
  // is current wherever all its pieces are.
  void before_node(size_t node_index, std::span<const Tensor* const> inputs);
  // Makes the graph's outputs current on the host and waits for the device.
  void finish(std::span<Tensor> outputs);

  // For a residency kept from run to run (graph_replay.h): the device homes stay where they are,
  // constants stay current on the device, every other value starts the run current on the host
  // only; the transfer counts start again.
  void begin_run(bool download_every_output, bool synchronize_every_node);
  // Value v current on the device now (graph inputs before a capture or replay).
  void prefetch(ValueId v, const Tensor& host);
  // While capturing nothing may be copied: an upload throws std::logic_error instead.
  void set_capturing(bool capturing) { capturing_ = capturing; }
  // After a replay: the graph's outputs were written on the device (finish brings them home).
  void outputs_written_on_device(std::span<Tensor> outputs);

  const TransferStats& stats() const { return stats_; }

 private:
  struct Residence {
    bool host_current = true;
    bool device_current = false;
    void* device = nullptr;
  };
  void* home(ValueId v, const Tensor& host);
  void upload(ValueId v, const Tensor& host);
  void download(ValueId v, const Tensor& host);
  void download(ValueId v, std::byte* host, size_t bytes);

  const Graph& graph_;
  const MemoryPlan* plan_;
  std::span<const NodeKernel* const> kernels_;
  std::shared_ptr<Device> device_;
  bool download_every_output_, synchronize_every_node_;
  bool capturing_ = false;
  std::vector<Residence> values_;
  DeviceBuffer arena_;
  std::vector<DeviceBuffer> own_;
  // Where each value written on the device lives on the host (its Tensor object moves around
  // the interpreter; its bytes do not).
  std::vector<std::pair<std::byte*, size_t>> host_bytes_;
  TransferStats stats_;
};

}  // namespace nnc::cuda
