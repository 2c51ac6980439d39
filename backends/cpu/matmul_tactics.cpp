// backends/cpu/matmul_tactics.cpp — MatMul and Gemm on the packed GEMM (backends/cpu/gemm.h).
//
//   matmul.packed-gemm   MatMul whose B is a constant matrix (projections, MLPs): every leading
//                        dim of A folds into M, B is packed once; fused bias and activation.
//   matmul.batched-gemm  MatMul of two computed operands with the same batch dims (attention's
//                        Q·Kᵀ and P·V): one GEMM per batch entry.
//   gemm.packed-gemm     Gemm with a constant B (transB folded into the packing, alpha into the
//                        packed values) and a constant or absent C (beta folded in; C of shape
//                        [N] or [1, N] is a column bias, [M, N] a residual).
#include "backends/cpu/gemm.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"

namespace nnc::cpu {
namespace {

// f32 of known shape, at least `min_rank` dims, and no empty dim: an empty product is the
// reference kernel's (a batched one divided by m·k = 0; found by tests/fuzz).
bool known_f32(const Graph& graph, ValueId v, int min_rank) {
  const TensorType& t = graph.type(v);
  if (t.dtype != DType::F32 || !t.shape.fully_known() || t.rank() < min_rank) return false;
  for (int64_t d : t.shape.concrete())
    if (d == 0) return false;
  return true;
}

// ---- matmul.packed-gemm ---------------------------------------------------------------------

class PackedMatMulKernel final : public NodeKernel {
 public:
  PackedMatMulKernel(const Node& node, const Tensor& b, const Tensor* bias) : activation_(Activation::of(node)) {
    k_ = b.dims()[0];
    n_ = b.dims()[1];
    packed_ = std::make_unique<PackedPanels>(StridedSource(b.data<float>(), 1, n_), n_, k_, micro_kernel().nr);
    if (bias) bias_.assign(bias->data<float>(), bias->data<float>() + bias->numel());
  }
  std::string_view tactic() const override { return "matmul.packed-gemm"; }
  void run(KernelContext& k) const override {
    const int64_t rows = k.in(0).numel() / k_;
    GemmEpilogue epilogue;
    epilogue.col_bias = bias_.empty() ? nullptr : bias_.data();
    epilogue.activation = activation_;
    gemm(rows, n_, k_, StridedSource(k.in(0).data<float>(), k_, 1), *packed_, k.out(0).data<float>(), n_, epilogue);
  }

 private:
  int64_t k_ = 0, n_ = 0;
  int64_t held_bytes() const override { return packed_->bytes(); }
  std::unique_ptr<PackedPanels> packed_;
  std::vector<float> bias_;
  Activation activation_;
};

std::string packed_matmul_rejects(const Graph& graph, const Node& node) {
  if (!known_f32(graph, node.inputs[0], 2) || !known_f32(graph, node.inputs[1], 2)) return "not f32 with rank >= 2 and no empty dim";
  const Tensor* b = constant_input(graph, node, 1);
  if (!b || b->rank() != 2) return "B is not a constant matrix";
  if (node.has_input(2) && !constant_input(graph, node, 2)) return "bias is not constant";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_packed_matmul(const Graph& graph, const Node& node) {
  return std::make_shared<PackedMatMulKernel>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2));
}

// ---- matmul.batched-gemm --------------------------------------------------------------------

class BatchedMatMulKernel final : public NodeKernel {
 public:
  explicit BatchedMatMulKernel(const Node& node) : activation_(Activation::of(node)) {}
  std::string_view tactic() const override { return "matmul.batched-gemm"; }
  void run(KernelContext& k) const override {
    const Dims& a = k.in(0).dims();
    const Dims& b = k.in(1).dims();
    const int64_t m = a[a.size() - 2], kk = a.back(), n = b.back();
    const int64_t batch = k.in(0).numel() / (m * kk);
    const float* bias = k.has_input(2) ? k.in(2).data<float>() : nullptr;
    const float* A = k.in(0).data<float>();
    const float* B = k.in(1).data<float>();
    float* C = k.out(0).data<float>();
    // Many small products: one thread per batch entry rather than threads inside each.
    parallel_for(batch, [&](int, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        GemmEpilogue epilogue;
        epilogue.col_bias = bias;
        epilogue.activation = activation_;
        gemm(m, n, kk, StridedSource(A + i * m * kk, kk, 1), StridedSource(B + i * kk * n, 1, n), C + i * m * n, n,
             epilogue, /*threaded=*/false);
      }
    });
  }

 private:
  Activation activation_;
};

std::string batched_matmul_rejects(const Graph& graph, const Node& node) {
  if (!known_f32(graph, node.inputs[0], 2) || !known_f32(graph, node.inputs[1], 2)) return "not f32 with rank >= 2 and no empty dim";
  const Dims a = graph.type(node.inputs[0]).shape.concrete(), b = graph.type(node.inputs[1]).shape.concrete();
  if (a.size() != b.size() || !std::equal(a.begin(), a.end() - 2, b.begin())) return "batch dims differ (broadcast)";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_batched_matmul(const Graph&, const Node& node) {
  return std::make_shared<BatchedMatMulKernel>(node);
}

// ---- gemm.packed-gemm -----------------------------------------------------------------------

class PackedGemmKernel final : public NodeKernel {
 public:
  PackedGemmKernel(const Node& node, const Tensor& b, const Tensor* c) : activation_(Activation::of(node)) {
    trans_a_ = attr_int(node, "transA") != 0;
    const bool trans_b = attr_int(node, "transB") != 0;
    k_ = b.dims()[trans_b ? 1 : 0];
    n_ = b.dims()[trans_b ? 0 : 1];
    const float alpha = attr_float(node, "alpha"), beta = attr_float(node, "beta");
    std::vector<float> scaled(b.data<float>(), b.data<float>() + b.numel());
    for (float& v : scaled) v *= alpha;
    const StridedSource source = trans_b ? StridedSource(scaled.data(), k_, 1) : StridedSource(scaled.data(), 1, n_);
    packed_ = std::make_unique<PackedPanels>(source, n_, k_, micro_kernel().nr);
    if (c) {
      c_.assign(c->data<float>(), c->data<float>() + c->numel());
      for (float& v : c_) v *= beta;
      c_is_matrix_ = c->numel() != n_ || (c->rank() == 2 && c->dims()[0] != 1);
    }
  }
  std::string_view tactic() const override { return "gemm.packed-gemm"; }
  void run(KernelContext& k) const override {
    const Dims& a = k.in(0).dims();
    const int64_t m = trans_a_ ? a[1] : a[0];
    GemmEpilogue epilogue;
    epilogue.activation = activation_;
    if (!c_.empty()) {
      if (c_is_matrix_) {
        epilogue.residual = c_.data();
        epilogue.ld_residual = n_;
      } else {
        epilogue.col_bias = c_.data();
      }
    }
    const StridedSource source = trans_a_ ? StridedSource(k.in(0).data<float>(), 1, m)
                                          : StridedSource(k.in(0).data<float>(), k_, 1);
    gemm(m, n_, k_, source, *packed_, k.out(0).data<float>(), n_, epilogue);
  }

 private:
  bool trans_a_ = false, c_is_matrix_ = false;
  int64_t k_ = 0, n_ = 0;
  int64_t held_bytes() const override { return packed_->bytes(); }
  std::unique_ptr<PackedPanels> packed_;
  std::vector<float> c_;
  Activation activation_;
};

std::string packed_gemm_rejects(const Graph& graph, const Node& node) {
  if (!known_f32(graph, node.inputs[0], 2) || !known_f32(graph, node.inputs[1], 2)) return "not f32 with known shapes";
  if (!constant_input(graph, node, 1)) return "B is not constant";
  if (!node.has_input(2)) return "";
  const Tensor* c = constant_input(graph, node, 2);
  if (!c) return "C is not constant";
  if (c->dtype() != DType::F32) return "C is not f32";
  const Dims out = graph.type(node.outputs[0]).shape.concrete();
  const Dims& cd = c->dims();
  const bool row = (cd.size() == 1 && cd[0] == out[1]) || (cd.size() == 2 && cd[0] == 1 && cd[1] == out[1]);
  const bool full = cd.size() == 2 && cd[0] == out[0] && cd[1] == out[1];
  return row || full ? "" : "C broadcasts in a way this tactic does not";
}

std::shared_ptr<const NodeKernel> prepare_packed_gemm(const Graph& graph, const Node& node) {
  return std::make_shared<PackedGemmKernel>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2));
}

}  // namespace

extern const Tactic kMatMulPackedGemm{"matmul.packed-gemm", OpKind::MatMul, packed_matmul_rejects,
                                      prepare_packed_matmul};
extern const Tactic kMatMulBatchedGemm{"matmul.batched-gemm", OpKind::MatMul, batched_matmul_rejects,
                                       prepare_batched_matmul};
extern const Tactic kGemmPackedGemm{"gemm.packed-gemm", OpKind::Gemm, packed_gemm_rejects, prepare_packed_gemm};

}  // namespace nnc::cpu
