// backends/cuda/graph_replay.cpp — see graph_replay.h.
#include "backends/cuda/graph_replay.h"

#include <stdexcept>

#include "backends/cuda/node_kernel.h"

namespace nnc::cuda {

bool GraphReplay::eligible(const Graph& graph, const MemoryPlan* plan, std::span<const NodeKernel* const> kernels,
                           const std::shared_ptr<Device>& device) {
  if (!plan || !device || kernels.size() != graph.nodes.size()) return false;
  std::vector<bool> on_device(graph.values.size(), false);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    const auto* k = dynamic_cast<const CudaNodeKernel*>(kernels[n]);
    const bool skipped = plan->skip_node[n];
    if (!skipped && !(k && k->device() == device)) return false;
    for (ValueId out : graph.nodes[n].outputs)
      if (out != kNoValue) on_device[size_t(out)] = true;
  }
  for (ValueId out : graph.outputs)
    if (!on_device[size_t(out)]) return false;  // an output that is an input or a constant
  for (ValueId in : graph.inputs)
    if (!graph.type(in).shape.fully_known()) return false;
  return true;
}

GraphReplay::GraphReplay(const Graph& graph, const MemoryPlan* plan, std::span<const NodeKernel* const> kernels,
                         std::shared_ptr<Device> device)
    : graph_(graph), device_(device), residency_(graph, plan, kernels, device, false, false) {}

std::vector<Tensor> GraphReplay::run(std::span<const Tensor> inputs, const Interpret& interpret) {
  residency_.begin_run(false, false);
  replayed_ = false;
  ++runs_;
  if (runs_ == 1 || gave_up_) {  // an ordinary resident run
    std::vector<Tensor> results = interpret(residency_);
    residency_.finish(results);
    return results;
  }
  for (size_t i = 0; i < inputs.size(); ++i) residency_.prefetch(graph_.inputs[i], inputs[i]);
  if (!recording_) {
    std::vector<Tensor> results;
    device_->begin_capture();
    residency_.set_capturing(true);
    const auto abandon = [&] {
      residency_.set_capturing(false);
      try {
        (void)device_->end_capture();  // a broken capture may refuse to end: nothing to keep anyway
      } catch (const std::exception&) {
      }
      gave_up_ = true;
    };
    try {
      results = interpret(residency_);
    } catch (const std::logic_error&) {
      // A kernel wanted a copy while recording: this model is not recordable. Run it the
      // ordinary way, now and from now on.
      abandon();
      residency_.begin_run(false, false);
      results = interpret(residency_);
      residency_.finish(results);
      return results;
    } catch (...) {
      abandon();
      throw;
    }
    residency_.set_capturing(false);
    recording_ = device_->end_capture();
    device_->replay(*recording_);
    residency_.finish(results);
    replayed_ = true;
    return results;
  }
  device_->replay(*recording_);
  std::vector<Tensor> results;
  for (ValueId out : graph_.outputs) results.emplace_back(graph_.type(out).dtype, graph_.type(out).shape.concrete());
  residency_.outputs_written_on_device(results);
  residency_.finish(results);
  replayed_ = true;
  return results;
}

}  // namespace nnc::cuda
