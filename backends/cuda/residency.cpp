// backends/cuda/residency.cpp — see residency.h.
#include "backends/cuda/residency.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "backends/cuda/node_kernel.h"

namespace nnc::cuda {
namespace {

thread_local DeviceResidency* active_residency = nullptr;

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

bool is_cuda_kernel(const NodeKernel* k) { return dynamic_cast<const CudaNodeKernel*>(k) != nullptr; }

}  // namespace

DeviceResidency::DeviceResidency(const Graph& graph, const MemoryPlan* plan, std::span<const NodeKernel* const> kernels,
                                 std::shared_ptr<Device> device, bool download_every_output, bool synchronize_every_node)
    : graph_(graph),
      plan_(plan),
      kernels_(kernels),
      device_(std::move(device)),
      download_every_output_(download_every_output),
      synchronize_every_node_(synchronize_every_node),
      values_(graph.values.size()),
      host_bytes_(graph.values.size(), {nullptr, 0}) {}

bool DeviceResidency::any_cuda(std::span<const NodeKernel* const> kernels) {
  for (const NodeKernel* k : kernels)
    if (is_cuda_kernel(k)) return true;
  return false;
}

DeviceResidency* DeviceResidency::current() { return active_residency; }
DeviceResidency::Active::Active(DeviceResidency& r) : previous_(active_residency) { active_residency = &r; }
DeviceResidency::Active::~Active() { active_residency = previous_; }

void* DeviceResidency::home(ValueId v, const Tensor& host) {
  Residence& r = values_[size_t(v)];
  if (r.device) return r.device;
  const TensorType& planned = graph_.type(v);
  const bool in_arena = plan_ && plan_->offset[size_t(v)] >= 0 && planned.shape.fully_known() &&
                        host.nbytes() == size_t(product(planned.shape.concrete())) * dtype_size(planned.dtype);
  if (in_arena) {
    if (!arena_.bytes()) arena_ = DeviceBuffer(device_, size_t(std::max<int64_t>(plan_->arena_bytes, 1)));
    r.device = arena_.as<std::byte>() + plan_->offset[size_t(v)];
  } else {
    own_.emplace_back(device_, std::max<size_t>(host.nbytes(), 1));
    r.device = own_.back().as<void>();
  }
  return r.device;
}

void DeviceResidency::upload(ValueId v, const Tensor& host) {
  if (capturing_) throw std::logic_error("a copy to the device during a capture");
  const auto t = std::chrono::steady_clock::now();
  device_->upload(home(v, host), host.bytes(), host.nbytes());
  stats_.upload_ms += ms_since(t);
  ++stats_.uploads;
  stats_.upload_bytes += int64_t(host.nbytes());
  values_[size_t(v)].device_current = true;
}

void DeviceResidency::download(ValueId v, std::byte* host, size_t bytes) {
  const auto t = std::chrono::steady_clock::now();
  device_->download(host, values_[size_t(v)].device, bytes);
  stats_.download_ms += ms_since(t);
  ++stats_.downloads;
  stats_.download_bytes += int64_t(bytes);
  values_[size_t(v)].host_current = true;
}

void DeviceResidency::download(ValueId v, const Tensor& host) {
  download(v, const_cast<std::byte*>(host.bytes()), host.nbytes());
}

const void* DeviceResidency::device_input(ValueId v, const Tensor& host) {
  if (!values_[size_t(v)].device_current) upload(v, host);
  return values_[size_t(v)].device;
}

void* DeviceResidency::device_output(ValueId v, const Tensor& host) { return home(v, host); }

void DeviceResidency::written_on_device(ValueId v, Tensor& host) {
  Residence& r = values_[size_t(v)];
  r.device_current = true;
  r.host_current = false;
  host_bytes_[size_t(v)] = {host.bytes(), host.nbytes()};
  if (download_every_output_) download(v, host);
}

void DeviceResidency::before_node(size_t n, std::span<const Tensor* const> inputs) {
  const Node& node = graph_.nodes[n];
  // A CUDA kernel on this device moves what it needs itself (one on another device is a
  // stranger here: it reads and writes host memory, like a CPU kernel).
  if (!kernels_.empty())
    if (const auto* k = dynamic_cast<const CudaNodeKernel*>(kernels_[n]); k && k->device() == device_) return;
  if (plan_ && plan_->skip_node[n]) {
    // A zero-copy Concat: its pieces already sit inside its output, on both sides. The output is
    // current on the device once every piece is (the host-only ones go up), and on the host if
    // every piece is there.
    bool host_current = true;
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (node.inputs[i] == kNoValue || !inputs[i]) continue;
      if (!values_[size_t(node.inputs[i])].device_current) upload(node.inputs[i], *inputs[i]);
      host_current = host_current && values_[size_t(node.inputs[i])].host_current;
    }
    Residence& out = values_[size_t(node.outputs[0])];
    if (!arena_.bytes()) arena_ = DeviceBuffer(device_, size_t(std::max<int64_t>(plan_->arena_bytes, 1)));
    out.device = arena_.as<std::byte>() + plan_->offset[size_t(node.outputs[0])];
    out.device_current = true;
    out.host_current = host_current;
    return;
  }
  // A node with subgraphs also reads, by name, values of the enclosing graph that are not its
  // inputs: bring those home too. (Their storage is alive: the node reads them.)
  for (const std::string& name : captured_names(node)) {
    const ValueId v = graph_.find(name);
    if (v != kNoValue && !values_[size_t(v)].host_current && host_bytes_[size_t(v)].first)
      download(v, host_bytes_[size_t(v)].first, host_bytes_[size_t(v)].second);
  }
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (node.inputs[i] != kNoValue && inputs[i] && !values_[size_t(node.inputs[i])].host_current)
      download(node.inputs[i], *inputs[i]);
  // The CPU writes the outputs: any device copy of them is stale from now on.
  for (ValueId out : node.outputs)
    if (out != kNoValue) values_[size_t(out)].device_current = false, values_[size_t(out)].host_current = true;
}

void DeviceResidency::begin_run(bool download_every_output, bool synchronize_every_node) {
  download_every_output_ = download_every_output;
  synchronize_every_node_ = synchronize_every_node;
  for (size_t v = 0; v < values_.size(); ++v) {
    if (graph_.value(ValueId(v)).kind == ValueKind::Const) continue;  // nothing writes a constant
    values_[v].host_current = true;
    values_[v].device_current = false;
  }
  std::fill(host_bytes_.begin(), host_bytes_.end(), std::pair<std::byte*, size_t>{nullptr, 0});
  stats_ = {};
}

void DeviceResidency::prefetch(ValueId v, const Tensor& host) {
  if (!values_[size_t(v)].device_current) upload(v, host);
}

void DeviceResidency::outputs_written_on_device(std::span<Tensor> outputs) {
  for (size_t i = 0; i < outputs.size() && i < graph_.outputs.size(); ++i) {
    Residence& r = values_[size_t(graph_.outputs[i])];
    r.device_current = true;
    r.host_current = false;
  }
}

void DeviceResidency::finish(std::span<Tensor> outputs) {
  for (size_t i = 0; i < outputs.size() && i < graph_.outputs.size(); ++i) {
    const ValueId v = graph_.outputs[i];
    if (!values_[size_t(v)].host_current) download(v, outputs[i]);
  }
  device_->synchronize();
}

}  // namespace nnc::cuda
