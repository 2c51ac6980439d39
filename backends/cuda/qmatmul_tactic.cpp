// backends/cuda/qmatmul_tactic.cpp — QLinearMatMul on INT8 Tensor Cores (mma.m16n8k32): u8 or
// s8 activations, a constant symmetric s8 weight matrix with per-tensor or per-column scales,
// the reference's double-precision requantization. Bit-identical to the reference kernel.
#include "backends/cuda/node_kernel.h"
#include "backends/cuda/tactics.h"

namespace nnc::cuda {
namespace {

std::string qmatmul_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  const TensorType& a = graph.type(node.inputs[0]);
  const TensorType& y = graph.type(node.outputs[0]);
  if (!a.shape.fully_known() || a.rank() < 2 || !y.shape.fully_known()) return "A is not a matrix of known shape";
  if (!is_8bit(a.dtype) || !is_8bit(y.dtype)) return "A or Y is not 8-bit";
  if (node.has_input(8) || node.has_attr("a_encoding")) return "nnc's bias or log2-coded A (not in this kernel)";
  const Tensor* b = cpu::constant_input(graph, node, 3);
  if (!b || b->dtype() != DType::I8 || b->rank() != 2) return "B is not a constant 2-D i8 matrix";
  const Tensor* b_zero = cpu::constant_input(graph, node, 5);
  if (!b_zero) return "B's zero point is not constant";
  for (int64_t i = 0; i < b_zero->numel(); ++i)
    if (b_zero->get_int(i) != 0) return "B is not symmetric (zero point not 0)";
  for (int input : {1, 2, 4, 6, 7})
    if (!cpu::constant_input(graph, node, input)) return fmt::format("input {} is not constant", input);
  for (int input : {1, 2, 6, 7})
    if (cpu::constant_input(graph, node, input)->numel() != 1) return "a scale or zero point of A or Y is not per tensor";
  const int64_t b_scales = cpu::constant_input(graph, node, 4)->numel();
  if (b_scales != 1 && b_scales != b->dims()[1]) return "B's scale is neither per tensor nor per column";
  if (b->dims()[0] > (int64_t{1} << 16)) return "depth too large for int32 accumulation";
  const int64_t rows = product(a.shape.concrete()) / a.shape.concrete().back();
  if (rows >= (int64_t{1} << 31) || product(y.shape.concrete()) >= (int64_t{1} << 31)) return "too large";
  return "";
}

template <class A, class Y>
void run_qmatmul(const KernelSet& k, const QMatMulProblem<A, Y>& p, void* s);
template <>
void run_qmatmul(const KernelSet& k, const QMatMulProblem<uint8_t, uint8_t>& p, void* s) { k.qmatmul_u8_u8(p, s); }
template <>
void run_qmatmul(const KernelSet& k, const QMatMulProblem<uint8_t, int8_t>& p, void* s) { k.qmatmul_u8_s8(p, s); }
template <>
void run_qmatmul(const KernelSet& k, const QMatMulProblem<int8_t, uint8_t>& p, void* s) { k.qmatmul_s8_u8(p, s); }
template <>
void run_qmatmul(const KernelSet& k, const QMatMulProblem<int8_t, int8_t>& p, void* s) { k.qmatmul_s8_s8(p, s); }

template <class A, class Y>
class QMatMulKernel final : public CudaNodeKernel {
 public:
  QMatMulKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.qmatmul.tc-int8-gemm", tactic_settings().device) {
    const auto constant = [&](int i) { return cpu::constant_input(graph, node, i); };
    const Tensor& b = *constant(3);
    const Dims a_dims = graph.type(node.inputs[0]).shape.concrete();
    p_.K = int(b.dims()[0]);
    p_.M = int(b.dims()[1]);
    p_.N = int(product(a_dims) / a_dims.back());
    p_.B = static_cast<const int8_t*>(keep(b));
    std::vector<int32_t> sums(static_cast<size_t>(p_.M), 0);
    for (int64_t k = 0; k < p_.K; ++k)
      for (int64_t n = 0; n < p_.M; ++n) sums[size_t(n)] += b.data<int8_t>()[k * p_.M + n];
    p_.column_sums = keep(sums);
    p_.a_zero = int32_t(constant(2)->get_int(0));
    const double a_scale = constant(1)->get_double(0);
    std::vector<double> products;
    for (int64_t i = 0; i < constant(4)->numel(); ++i) products.push_back(a_scale * constant(4)->get_double(i));
    p_.per_column = products.size() > 1;
    p_.scale_product = keep(products);
    p_.y_scale = constant(6)->get_double(0);
    p_.y_zero = double(constant(7)->get_int(0));
    const bool y_unsigned = graph.type(node.outputs[0]).dtype == DType::U8;
    p_.y_low = y_unsigned ? 0 : -128;
    p_.y_high = y_unsigned ? 255 : 127;
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    QMatMulProblem<A, Y> p = p_;
    p.A = io.in<A>(0);
    p.Y = io.out<Y>(0);
    run_qmatmul(kernels(), p, stream());
  }
  QMatMulProblem<A, Y> p_;
};

std::shared_ptr<const NodeKernel> prepare_qmatmul(const Graph& graph, const Node& node) {
  const bool a_unsigned = graph.type(node.inputs[0]).dtype == DType::U8;
  const bool y_unsigned = graph.type(node.outputs[0]).dtype == DType::U8;
  if (a_unsigned && y_unsigned) return std::make_shared<QMatMulKernel<uint8_t, uint8_t>>(graph, node);
  if (a_unsigned) return std::make_shared<QMatMulKernel<uint8_t, int8_t>>(graph, node);
  if (y_unsigned) return std::make_shared<QMatMulKernel<int8_t, uint8_t>>(graph, node);
  return std::make_shared<QMatMulKernel<int8_t, int8_t>>(graph, node);
}

}  // namespace

extern const cpu::Tactic kCudaQMatMulInt8{"cuda.qmatmul.tc-int8-gemm", OpKind::QLinearMatMul, qmatmul_rejects,
                                          prepare_qmatmul};

}  // namespace nnc::cuda
