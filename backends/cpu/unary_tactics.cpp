// backends/cpu/unary_tactics.cpp — unary.vectorised: the activations that also exist as fused
// epilogues (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh) as standalone f32 nodes,
// e.g. U2Net's Sigmoid on each side output, which no producer can absorb because the map
// before it is a graph output too. The epilogue code (ops/epilogue.h) is already vectorised
// for each instruction set; this runs it over the tensor in cache-sized chunks on the pool.
#include <cstring>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/epilogue.h"

namespace nnc::cpu {
namespace {

// The epilogue computing the same function as unary node `n`, if there is one.
std::optional<Activation> activation_of(const Node& n) {
  using Kind = Activation::Kind;
  switch (n.op) {
    case OpKind::Relu: return Activation{Kind::Relu};
    case OpKind::Sigmoid: return Activation{Kind::Sigmoid};
    case OpKind::Tanh: return Activation{Kind::Tanh};
    case OpKind::HardSwish: return Activation{Kind::HardSwish};
    case OpKind::LeakyRelu: return Activation{Kind::LeakyRelu, attr_float(n, "alpha")};
    case OpKind::HardSigmoid: return Activation{Kind::HardSigmoid, attr_float(n, "alpha"), attr_float(n, "beta")};
    default: return std::nullopt;
  }
}

class UnaryKernel final : public NodeKernel {
 public:
  explicit UnaryKernel(Activation activation) : activation_(activation) {}
  std::string_view tactic() const override { return "unary.vectorised"; }
  void run(KernelContext& k) const override {
    const float* x = k.in(0).data<float>();
    float* y = k.out(0).data<float>();  // may be x itself (the memory plan runs it in place)
    parallel_for(k.out(0).numel(), [&](int, int64_t begin, int64_t end) {
      constexpr int64_t kChunk = 4096;  // copied then transformed while in L1
      for (int64_t i = begin; i < end; i += kChunk) {
        const int64_t n = std::min(kChunk, end - i);
        if (y != x) std::memcpy(y + i, x + i, size_t(n) * sizeof(float));
        activation_.apply(y + i, n);
      }
    }, /*min_chunk=*/16384);
  }

 private:
  Activation activation_;
};

std::string unary_rejects(const Graph& graph, const Node& node) {
  const TensorType& x = graph.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known()) return "not f32 with a known shape";
  if (!activation_of(node)) return "no vectorised form";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_unary(const Graph&, const Node& node) {
  return std::make_shared<UnaryKernel>(*activation_of(node));
}

}  // namespace

extern const Tactic kReluVectorised{"unary.vectorised", OpKind::Relu, unary_rejects, prepare_unary};
extern const Tactic kLeakyReluVectorised{"unary.vectorised", OpKind::LeakyRelu, unary_rejects, prepare_unary};
extern const Tactic kSigmoidVectorised{"unary.vectorised", OpKind::Sigmoid, unary_rejects, prepare_unary};
extern const Tactic kHardSigmoidVectorised{"unary.vectorised", OpKind::HardSigmoid, unary_rejects, prepare_unary};
extern const Tactic kHardSwishVectorised{"unary.vectorised", OpKind::HardSwish, unary_rejects, prepare_unary};
extern const Tactic kTanhVectorised{"unary.vectorised", OpKind::Tanh, unary_rejects, prepare_unary};

}  // namespace nnc::cpu
