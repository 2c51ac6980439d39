// backends/cuda/tactics.cpp — the CUDA tactic list, the device they use, and their helpers.
#include "backends/cuda/tactics.h"

#include "backends/cuda/node_kernel.h"
#include "ops/epilogue.h"

namespace nnc::cuda {

extern const cpu::Tactic kCudaConvSimt, kCudaConvF16, kCudaQConvInt8;
extern const cpu::Tactic kCudaMatMulSimt, kCudaMatMulF16, kCudaGemmSimt, kCudaGemmF16;
extern const cpu::Tactic kCudaSoftmax, kCudaLogSoftmax, kCudaLayerNorm, kCudaGroupNorm, kCudaInstanceNorm, kCudaMaxPool,
    kCudaAveragePool, kCudaResize, kCudaGridSample, kCudaQMatMulInt8, kCudaDeformAttn, kCudaDeformConvSimt, kCudaDeformConvF16;
std::vector<cpu::Tactic> elementwise_tactics();

namespace {
TacticSettings settings;

// The kernels read ops/epilogue.h's activation kinds by number.
static_assert(int(Act::Tanh) == int(nnc::Activation::Kind::Tanh) && int(Act::Relu) == int(nnc::Activation::Kind::Relu) &&
              int(Act::GeluTanh) == int(nnc::Activation::Kind::GeluTanh) && int(Act::Clip) == int(nnc::Activation::Kind::Clip));
}  // namespace

std::span<const cpu::Tactic> cuda_tactics() {
  static const std::vector<cpu::Tactic> all = [] {
    std::vector<cpu::Tactic> v{kCudaConvSimt,    kCudaConvF16,     kCudaQConvInt8,  kCudaQMatMulInt8, kCudaMatMulSimt,
                               kCudaMatMulF16,   kCudaGemmSimt,    kCudaGemmF16,    kCudaSoftmax,     kCudaLogSoftmax,
                               kCudaLayerNorm,   kCudaGroupNorm,   kCudaInstanceNorm, kCudaMaxPool,   kCudaAveragePool,
                               kCudaResize,      kCudaGridSample,  kCudaDeformAttn, kCudaDeformConvSimt,
                               kCudaDeformConvF16};
    for (const cpu::Tactic& t : elementwise_tactics()) v.push_back(t);
    return v;
  }();
  return all;
}

void use_device(const TacticSettings& s) {
  settings = s;
  // Registered once a device is in use: on a machine without one the tactic tables stay the CPU's.
  if (s.device) cpu::register_tactics(cuda_tactics());
}

const TacticSettings& tactic_settings() { return settings; }

std::string device_rejects() { return settings.device ? "" : "no CUDA device in use (--device cuda)"; }

Activation activation_of(const Node& node) {
  const nnc::Activation a = nnc::Activation::of(node);
  return Activation{Act(int(a.kind)), a.p0, a.p1};
}

std::string f32_known_rejects(const Graph& graph, const Node& node) {
  for (ValueId v : node.inputs)
    if (v != kNoValue && (graph.type(v).dtype != DType::F32 || !graph.type(v).shape.fully_known()))
      return "an input is not f32 with a known shape";
  for (ValueId v : node.outputs)
    if (graph.type(v).dtype != DType::F32 || !graph.type(v).shape.fully_known()) return "an output is not f32 with a known shape";
  return "";
}

}  // namespace nnc::cuda
