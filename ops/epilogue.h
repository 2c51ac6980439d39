// ops/epilogue.h — the activation a fused Conv / ConvTranspose / Gemm / MatMul (or f32
// GroupNormalization / InstanceNormalization) applies to its result before writing it
// (passes/fuse_activations.cpp puts it there).
//
// nnc's own attributes on those ops: `act` (the activation's op name: Relu, LeakyRelu, Clip,
// Sigmoid, HardSigmoid, HardSwish, Silu, Gelu, GeluTanh, Tanh) and `act_params` (LeakyRelu:
// alpha; Clip: min, max; HardSigmoid: alpha, beta). Conv also takes an optional 4th input, a
// residual added before the activation, y = act(conv(x) + bias + residual), or after it when
// its attribute `residual_after_act` is 1: y = act(conv(x) + bias) + residual (U2Net's and
// ResNet-v2-style blocks add the skip to an activated conv).
#pragma once

#include <cstdint>

#include "ops/op_def.h"

namespace nnc {

// `attrs` (an op's own schema) plus the AttrSpecs every op with an epilogue adds.
std::vector<AttrSpec> with_epilogue_attrs(std::vector<AttrSpec> attrs);
// Throws naming the node for an unknown activation or a wrong number of parameters.
void validate_epilogue(const Node& n);

// A node's activation, decoded once (kernels apply it to many small tiles).
struct Activation {
  enum class Kind { None, Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Silu, Gelu, GeluTanh, Tanh };
  Kind kind = Kind::None;
  float p0 = 0, p1 = 0;  // LeakyRelu alpha; Clip min, max; HardSigmoid alpha, beta

  static Activation of(const Node& n);  // throws like validate_epilogue
  // Applies the activation to `count` floats in place.
  void apply(float* data, int64_t count) const;
};

// Whether the node's residual input is added after its activation (`residual_after_act` = 1).
bool residual_after_activation(const Node& n);

// Applies the node's activation (if any) to `count` floats in place.
void apply_epilogue(const Node& n, float* data, int64_t count);

}  // namespace nnc
