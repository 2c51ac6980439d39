// backends/cpu/binary_tactics.cpp — Add, Sub, Mul, Div on f32 tensors of the same shape (a
// U-Net's residual adds) or with one scalar side: a flat loop the compiler vectorises for the
// instruction set found at run time, split across threads.
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"

namespace nnc::cpu {
namespace {

// `a_step`/`b_step` are 1 for a full operand and 0 for a scalar one. Inlined into each clone of
// apply below, so the loops are compiled for each instruction set.
template <typename Op>
[[gnu::always_inline]] inline void elementwise(const float* a, int64_t a_step, const float* b, int64_t b_step, float* y,
                                               int64_t count, Op op) {
  if (a_step && b_step) {
    for (int64_t i = 0; i < count; ++i) y[i] = op(a[i], b[i]);
  } else if (a_step) {
    const float s = b[0];
    for (int64_t i = 0; i < count; ++i) y[i] = op(a[i], s);
  } else {
    const float s = a[0];
    for (int64_t i = 0; i < count; ++i) y[i] = op(s, b[i]);
  }
}

// Not a template itself: clang cannot clone templates.
__attribute__((target_clones("avx512f", "avx2", "default"))) void apply(OpKind op, const float* a, int64_t a_step,
                                                                       const float* b, int64_t b_step, float* y,
                                                                       int64_t count) {
  switch (op) {
    case OpKind::Add: elementwise(a, a_step, b, b_step, y, count, [](float u, float v) { return u + v; }); break;
    case OpKind::Sub: elementwise(a, a_step, b, b_step, y, count, [](float u, float v) { return u - v; }); break;
    case OpKind::Mul: elementwise(a, a_step, b, b_step, y, count, [](float u, float v) { return u * v; }); break;
    default: elementwise(a, a_step, b, b_step, y, count, [](float u, float v) { return u / v; }); break;
  }
}

class BinaryKernel final : public NodeKernel {
 public:
  std::string_view tactic() const override { return "binary.flat"; }
  void run(KernelContext& k) const override {
    const Tensor &a = k.in(0), &b = k.in(1);
    Tensor& y = k.out(0);
    const int64_t a_step = a.numel() == y.numel() ? 1 : 0, b_step = b.numel() == y.numel() ? 1 : 0;
    const OpKind op = k.node.op;
    parallel_for(y.numel(), [&](int, int64_t begin, int64_t end) {
      const float* pa = a.data<float>() + begin * a_step;
      const float* pb = b.data<float>() + begin * b_step;
      float* py = y.data<float>() + begin;
      apply(op, pa, a_step, pb, b_step, py, end - begin);
    }, /*min_chunk=*/16384);
  }
};

std::string binary_rejects(const Graph& graph, const Node& node) {
  const TensorType &a = graph.type(node.inputs[0]), &b = graph.type(node.inputs[1]), &y = graph.type(node.outputs[0]);
  if (a.dtype != DType::F32 || b.dtype != DType::F32 || !y.shape.fully_known() || !a.shape.fully_known() ||
      !b.shape.fully_known())
    return "not f32 with known shapes";
  const int64_t n = product(y.shape.concrete());
  const int64_t na = product(a.shape.concrete()), nb = product(b.shape.concrete());
  if ((na != n && na != 1) || (nb != n && nb != 1) || (na == 1 && nb == 1 && n != 1))
    return "broadcasts other than same-shape or scalar";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_binary(const Graph&, const Node&) { return std::make_shared<BinaryKernel>(); }

}  // namespace

extern const Tactic kAddFlat{"binary.flat", OpKind::Add, binary_rejects, prepare_binary};
extern const Tactic kSubFlat{"binary.flat", OpKind::Sub, binary_rejects, prepare_binary};
extern const Tactic kMulFlat{"binary.flat", OpKind::Mul, binary_rejects, prepare_binary};
extern const Tactic kDivFlat{"binary.flat", OpKind::Div, binary_rejects, prepare_binary};

}  // namespace nnc::cpu
