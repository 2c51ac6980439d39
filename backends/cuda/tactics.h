// backends/cuda/tactics.h — the CUDA kernels as tactics of the one tactic registry, so the
// autotuner (backends/cpu/tuner.h) times them beside the CPU's on each node's real shapes.
//
// A CUDA tactic is a NodeKernel whose run() uploads the node's computed inputs, launches its
// kernel on the device's stream and downloads the outputs (its weights were uploaded once, in
// prepare). Its measured time therefore includes the transfers a change of device costs: a node
// moves to the GPU only when it wins with them paid. Names start with "cuda.".
//
// Tactics that compute in f16 on Tensor Cores (".tc-f16") change the numbers by about 1e-3
// relative: they are candidates only when f16 is allowed (`nnc compile --fp16`), and the tuner
// then checks them against the reference with the f16 tolerance.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "backends/cpu/tactic.h"
#include "backends/cuda/device.h"

namespace nnc::cuda {

struct TacticSettings {
  std::shared_ptr<Device> device;  // null: the CUDA tactics reject every node
  bool allow_f16 = false;
};

// Which device the CUDA tactics run on (and prepare for). The first call with a device registers
// them with the tuner (cpu::register_tactics); with none they refuse every node.
void use_device(const TacticSettings& settings);
const TacticSettings& tactic_settings();

std::span<const cpu::Tactic> cuda_tactics();

}  // namespace nnc::cuda
