// backends/cuda/matmul_tactics.cpp — MatMul (batched, broadcast, nnc's fused bias and
// activation) and Gemm (transA/transB, alpha, beta, C) on CUDA cores or f16 Tensor Cores.
#include "backends/cuda/node_kernel.h"
#include "backends/cuda/tactics.h"
#include "ops/epilogue.h"

namespace nnc::cuda {
namespace {

std::string matmul_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (std::string why = f32_known_rejects(graph, node); !why.empty()) return why;
  const Dims a = graph.type(node.inputs[0]).shape.concrete(), b = graph.type(node.inputs[1]).shape.concrete();
  const Dims y = graph.type(node.outputs[0]).shape.concrete();
  if (a.size() < 2 || b.size() < 2) return "a 1-D operand";
  if (y.size() - 2 > size_t(kMaxBatchRank)) return "more batch dims than the kernel takes";
  if (product(y) >= (int64_t{1} << 31) || product(a) >= (int64_t{1} << 31) || product(b) >= (int64_t{1} << 31))
    return "a tensor of 2^31 elements or more";
  if (product(std::span(y).first(y.size() - 2)) > 65535) return "a batch over the grid's 65535";
  if (node.op == OpKind::Gemm) {
    if (a.size() != 2 || b.size() != 2) return "Gemm operands are not 2-D";
    if (node.has_input(2) && graph.type(node.inputs[2]).rank() > 2) return "C has more than 2 dims";
  }
  return "";
}

std::string matmul_f16_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (!tactic_settings().allow_f16) return "f16 not allowed (--fp16)";
  return matmul_rejects(graph, node);
}

class MatMulKernel final : public CudaNodeKernel {
 public:
  MatMulKernel(std::string_view name, const Graph& graph, const Node& node, bool tensor_cores)
      : CudaNodeKernel(name, tactic_settings().device), tensor_cores_(tensor_cores) {
    const Dims a = graph.type(node.inputs[0]).shape.concrete(), b = graph.type(node.inputs[1]).shape.concrete();
    const Dims y = graph.type(node.outputs[0]).shape.concrete();
    MatMulProblem& p = p_;
    p.M = int(y[y.size() - 2]), p.N = int(y.back());
    const bool trans_a = node.op == OpKind::Gemm && attr_int(node, "transA") != 0;
    const bool trans_b = node.op == OpKind::Gemm && attr_int(node, "transB") != 0;
    p.K = int(trans_a ? a[0] : a.back());
    const int64_t a_cols = a.back(), b_cols = b.back();
    p.a_row = trans_a ? 1 : a_cols, p.a_col = trans_a ? a_cols : 1;
    p.b_row = trans_b ? 1 : b_cols, p.b_col = trans_b ? b_cols : 1;
    // Batch dims, right-aligned against the output's; an operand lacking a dim or having 1 there broadcasts.
    p.batch_rank = int(y.size()) - 2;
    p.batch = 1;
    for (int d = 0; d < p.batch_rank; ++d) {
      p.batch_dims[d] = int(y[size_t(d)]);
      p.batch *= p.batch_dims[d];
      const auto stride = [&](const Dims& t) -> long long {
        const int td = d - (int(y.size()) - int(t.size()));
        if (td < 0 || t[size_t(td)] == 1) return 0;
        long long s = 1;
        for (size_t i = size_t(td) + 1; i < t.size(); ++i) s *= t[i];
        return s;
      };
      p.a_batch_stride[d] = stride(a), p.b_batch_stride[d] = stride(b);
    }
    if (const Tensor* w = cpu::constant_input(graph, node, 1)) b_constant_ = static_cast<const float*>(keep(*w));
    if (node.op == OpKind::Gemm) {
      p.alpha = attr_float(node, "alpha");
      p.beta = attr_float(node, "beta");
      if (node.has_input(2)) {
        const Dims c = graph.type(node.inputs[2]).shape.concrete();
        const Dims c2 = c.size() == 2 ? c : c.size() == 1 ? Dims{1, c[0]} : Dims{1, 1};
        p.c_row = c2[0] == 1 ? 0 : c2[1];
        p.c_col = c2[1] == 1 ? 0 : 1;
        if (const Tensor* ct = cpu::constant_input(graph, node, 2)) c_constant_ = static_cast<const float*>(keep(*ct));
        has_c_ = true;
      }
    } else if (node.has_input(2)) {
      has_bias_ = true;
      if (const Tensor* bias = cpu::constant_input(graph, node, 2)) bias_constant_ = static_cast<const float*>(keep(*bias));
    }
    p.epilogue.act = activation_of(node);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    MatMulProblem p = p_;
    p.A = io.in<float>(0);
    p.B = b_constant_ ? b_constant_ : io.in<float>(1);
    if (has_c_) p.C = c_constant_ ? c_constant_ : io.in<float>(2);
    if (has_bias_) p.bias = bias_constant_ ? bias_constant_ : io.in<float>(2);
    p.Y = io.out<float>(0);
    (tensor_cores_ ? kernels().matmul_tensor_core_f16 : kernels().matmul_simt)(p, stream());
  }
  MatMulProblem p_;
  bool tensor_cores_;
  bool has_c_ = false, has_bias_ = false;
  const float* b_constant_ = nullptr;
  const float* c_constant_ = nullptr;
  const float* bias_constant_ = nullptr;
};

template <const char* name, bool tensor_cores>
std::shared_ptr<const NodeKernel> prepare(const Graph& graph, const Node& node) {
  return std::make_shared<MatMulKernel>(name, graph, node, tensor_cores);
}

constexpr char kMatMulSimtName[] = "cuda.matmul.simt-gemm", kMatMulF16Name[] = "cuda.matmul.tc-f16-gemm";
constexpr char kGemmSimtName[] = "cuda.gemm.simt-gemm", kGemmF16Name[] = "cuda.gemm.tc-f16-gemm";

}  // namespace

extern const cpu::Tactic kCudaMatMulSimt{kMatMulSimtName, OpKind::MatMul, matmul_rejects, prepare<kMatMulSimtName, false>};
extern const cpu::Tactic kCudaMatMulF16{kMatMulF16Name, OpKind::MatMul, matmul_f16_rejects, prepare<kMatMulF16Name, true>, 2e-3};
extern const cpu::Tactic kCudaGemmSimt{kGemmSimtName, OpKind::Gemm, matmul_rejects, prepare<kGemmSimtName, false>};
extern const cpu::Tactic kCudaGemmF16{kGemmF16Name, OpKind::Gemm, matmul_f16_rejects, prepare<kGemmF16Name, true>, 2e-3};

}  // namespace nnc::cuda
