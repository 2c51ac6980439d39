// backends/cuda/graph_replay.h — a model that runs wholly on the GPU, recorded once as a CUDA
// graph and replayed (the launch overhead of hundreds of kernels paid once).
//
// Eligible: every node runs a CUDA kernel on this device (or is a zero-copy Concat the memory
// plan skips), every graph output is computed by one of them, and there is a memory plan. The
// replay keeps one DeviceResidency from run to run, so every tensor has the same device address
// each time. Run 1 is an ordinary resident run (it allocates the device homes and uploads the
// constants some kernels read at run time). Run 2 uploads the inputs, then records the
// interpreter's launches (nothing is copied or waited for while recording) and replays the
// recording. Later runs skip the interpreter: upload the inputs, replay, download the outputs.
// On the emulator the recording is the list of launches; on a GPU it is a cudaGraph.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "backends/cuda/residency.h"

namespace nnc::cuda {

class GraphReplay {
 public:
  static bool eligible(const Graph& graph, const MemoryPlan* plan, std::span<const NodeKernel* const> kernels,
                       const std::shared_ptr<Device>& device);
  GraphReplay(const Graph& graph, const MemoryPlan* plan, std::span<const NodeKernel* const> kernels,
              std::shared_ptr<Device> device);

  // One run on `inputs` (the graph's inputs, in order, of exactly the declared types).
  // `interpret` runs the interpreter with the residency installed (InterpreterOptions::before_node
  // and DeviceResidency::Active) and returns the outputs it allocated.
  using Interpret = std::function<std::vector<Tensor>(DeviceResidency&)>;
  std::vector<Tensor> run(std::span<const Tensor> inputs, const Interpret& interpret);

  // Whether the last run replayed a recording, and what it copied.
  bool replayed() const { return replayed_; }
  const TransferStats& stats() const { return residency_.stats(); }
  // One run at a time: a caller that cannot take it runs the model the ordinary way.
  std::mutex& busy() { return busy_; }
  const std::shared_ptr<Device>& device() const { return device_; }

 private:
  const Graph& graph_;
  std::shared_ptr<Device> device_;
  DeviceResidency residency_;
  std::shared_ptr<Device::Capture> recording_;
  int runs_ = 0;
  bool gave_up_ = false, replayed_ = false;
  std::mutex busy_;
};

}  // namespace nnc::cuda
