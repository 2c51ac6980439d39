// backends/cuda/qconv_tactic.cpp — QLinearConv (nnc's, with the fused requantize, activation and
// residual of ops/requantize.h) on INT8 Tensor Cores: mma.m16n8k32 with u8 or s8 activations,
// symmetric per-channel s8 weights, int32 accumulation, the float or fixed-point requantization
// applied before the one rounding. Bit-identical to the reference kernel.
#include "backends/cuda/node_kernel.h"
#include "backends/cuda/tactics.h"
#include "ops/requantize.h"

namespace nnc::cuda {

ConvShape conv_shape(const Graph& graph, const Node& node, int x_input, int w_input);
std::string conv_size_rejects(const Graph& graph, const Node& node, int x_input);

namespace {

std::string qconv_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  const TensorType& x = graph.type(node.inputs[0]);
  const TensorType& y = graph.type(node.outputs[0]);
  if (!x.shape.fully_known() || x.rank() != 4 || !y.shape.fully_known()) return "not a 2-D conv with known shapes";
  if (!is_8bit(x.dtype) || !is_8bit(y.dtype)) return "input or output is not 8-bit";
  const Tensor* w = cpu::constant_input(graph, node, 3);
  if (!w || w->dtype() != DType::I8) return "weights are not an i8 constant";
  const Tensor* w_zero = cpu::constant_input(graph, node, 5);
  if (!w_zero) return "weight zero point is not constant";
  for (int64_t i = 0; i < w_zero->numel(); ++i)
    if (w_zero->get_int(i) != 0) return "weights are not symmetric (zero point not 0)";
  for (int input : {1, 2, 4, 6, 7})
    if (!cpu::constant_input(graph, node, input)) return fmt::format("input {} is not constant", input);
  for (int input : {1, 2, 6, 7})
    if (cpu::constant_input(graph, node, input)->numel() != 1) return "x or y scale or zero point is not per tensor";
  const int64_t maps = w->dims()[0];
  const int64_t w_scales = cpu::constant_input(graph, node, 4)->numel();
  if (w_scales != 1 && w_scales != maps) return "weight scale is neither per tensor nor per output channel";
  if (node.has_input(8) && (!cpu::constant_input(graph, node, 8) || cpu::constant_input(graph, node, 8)->numel() != maps))
    return "bias is not a constant with one value per output channel";
  if (node.has_input(9)) {
    if (graph.type(node.inputs[9]).dtype != y.dtype) return "residual type differs from the output's";
    if (graph.type(node.inputs[9]).shape != y.shape) return "residual is broadcast";
    if (!cpu::constant_input(graph, node, 10) || (node.has_input(11) && !cpu::constant_input(graph, node, 11)))
      return "residual scale or zero point is not constant";
  }
  if (w->dims()[1] * w->dims()[2] * w->dims()[3] > (int64_t{1} << 16)) return "depth too large for int32 accumulation";
  return conv_size_rejects(graph, node, 0);
}

template <class X, class Y>
void run_qconv(const KernelSet& kernels, const QConvProblem<X, Y>& p, void* stream);
template <>
void run_qconv(const KernelSet& k, const QConvProblem<uint8_t, uint8_t>& p, void* s) { k.qconv_u8_u8(p, s); }
template <>
void run_qconv(const KernelSet& k, const QConvProblem<uint8_t, int8_t>& p, void* s) { k.qconv_u8_s8(p, s); }
template <>
void run_qconv(const KernelSet& k, const QConvProblem<int8_t, uint8_t>& p, void* s) { k.qconv_s8_u8(p, s); }
template <>
void run_qconv(const KernelSet& k, const QConvProblem<int8_t, int8_t>& p, void* s) { k.qconv_s8_s8(p, s); }

template <class X, class Y>
class QConvKernel final : public CudaNodeKernel {
 public:
  QConvKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.qconv.tc-int8-implicit-gemm", tactic_settings().device) {
    p_ = QConvProblem<X, Y>::make(conv_shape(graph, node, 0, 3));
    const auto constant = [&](int i) { return cpu::constant_input(graph, node, i); };
    const Tensor& w = *constant(3);
    p_.w = static_cast<const int8_t*>(keep(w));
    const int64_t maps = w.dims()[0], depth = w.numel() / maps;
    std::vector<int32_t> sums(static_cast<size_t>(maps), 0);
    for (int64_t m = 0; m < maps; ++m)
      for (int64_t k = 0; k < depth; ++k) sums[size_t(m)] += w.data<int8_t>()[m * depth + k];
    p_.weight_sums = keep(sums);
    if (node.has_input(8)) {
      std::vector<int32_t> bias(static_cast<size_t>(maps));
      for (int64_t m = 0; m < maps; ++m) bias[size_t(m)] = int32_t(constant(8)->get_int(m));
      p_.bias = keep(bias);
    }
    p_.x_zero = int32_t(constant(2)->get_int(0));
    const Requantizer r = Requantizer::of(node, float(constant(1)->get_double(0)), *constant(4),
                                          float(constant(6)->get_double(0)), int32_t(constant(7)->get_int(0)),
                                          graph.type(node.outputs[0]).dtype, node.has_input(9) ? constant(10) : nullptr,
                                          node.has_input(9) && node.has_input(11) ? constant(11) : nullptr);
    Requantize& q = p_.q;
    q.fixed_point = r.fixed_point, q.has_residual = r.has_residual, q.residual_after_act = r.residual_after_act;
    q.relu = r.relu, q.clip = r.clip, q.act_low = r.act_low, q.act_high = r.act_high;
    q.act_low_q16 = r.act_low_q16, q.act_high_q16 = r.act_high_q16;
    q.per_channel = r.multiplier.size() > 1;
    std::vector<int32_t> fixed_multiplier, fixed_shift;
    for (const FixedPointRatio& f : r.fixed) fixed_multiplier.push_back(f.multiplier), fixed_shift.push_back(f.shift);
    q.multiplier = keep(r.multiplier);
    q.fixed_multiplier = keep(fixed_multiplier);
    q.fixed_shift = keep(fixed_shift);
    q.residual_multiplier = r.residual_multiplier;
    q.residual_fixed_multiplier = r.residual_fixed.multiplier, q.residual_fixed_shift = r.residual_fixed.shift;
    q.residual_zero = r.residual_zero, q.y_zero = r.y_zero, q.y_low = r.y_low, q.y_high = r.y_high;
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    QConvProblem<X, Y> p = p_;
    p.x = io.in<X>(0);
    if (k.has_input(9)) p.residual = io.in<Y>(9);
    p.y = io.out<Y>(0);
    run_qconv(kernels(), p, stream());
  }
  QConvProblem<X, Y> p_;
};

std::shared_ptr<const NodeKernel> prepare_qconv(const Graph& graph, const Node& node) {
  const bool x_unsigned = graph.type(node.inputs[0]).dtype == DType::U8;
  const bool y_unsigned = graph.type(node.outputs[0]).dtype == DType::U8;
  if (x_unsigned && y_unsigned) return std::make_shared<QConvKernel<uint8_t, uint8_t>>(graph, node);
  if (x_unsigned) return std::make_shared<QConvKernel<uint8_t, int8_t>>(graph, node);
  if (y_unsigned) return std::make_shared<QConvKernel<int8_t, uint8_t>>(graph, node);
  return std::make_shared<QConvKernel<int8_t, int8_t>>(graph, node);
}

}  // namespace

extern const cpu::Tactic kCudaQConvInt8{"cuda.qconv.tc-int8-implicit-gemm", OpKind::QLinearConv, qconv_rejects, prepare_qconv};

}  // namespace nnc::cuda
