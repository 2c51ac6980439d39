// backends/cuda/conv_tactics.cpp — Conv (2-D, f32, any groups, strides, dilations, pads, fused
// bias, residual and activation) as implicit GEMM on CUDA cores or on f16 Tensor Cores.
#include "backends/cuda/node_kernel.h"
#include "backends/cuda/tactics.h"
#include "ops/epilogue.h"
#include "ops/window_geometry.h"

namespace nnc::cuda {

// The shape of a 2-D Conv or QLinearConv node whose input is input `x_input` and weights
// input `w_input`; the output's dims come from the graph.
ConvShape conv_shape(const Graph& graph, const Node& node, int x_input, int w_input) {
  const Dims& x = graph.type(node.inputs[size_t(x_input)]).shape.concrete();
  const Dims& w = graph.type(node.inputs[size_t(w_input)]).shape.concrete();
  const Dims& y = graph.type(node.outputs[0]).shape.concrete();
  const WindowGeometry g = window_geometry(node, {x[2], x[3]}, {w[2], w[3]}, false);
  ConvShape s;
  s.N = int(x[0]), s.C = int(x[1]), s.H = int(x[2]), s.W = int(x[3]);
  s.M = int(y[1]), s.OH = int(y[2]), s.OW = int(y[3]);
  s.KH = int(w[2]), s.KW = int(w[3]);
  s.SH = int(g.stride[0]), s.SW = int(g.stride[1]);
  s.PH = int(g.pad_begin[0]), s.PW = int(g.pad_begin[1]);
  s.DH = int(g.dilation[0]), s.DW = int(g.dilation[1]);
  s.groups = int(node.has_attr("group") ? attr_int(node, "group") : 1);
  return s;
}

// Why the conv's sizes do not fit the kernels' int indexing and grid limits ("" when they do).
std::string conv_size_rejects(const Graph& graph, const Node& node, int x_input) {
  const Dims& x = graph.type(node.inputs[size_t(x_input)]).shape.concrete();
  const Dims& y = graph.type(node.outputs[0]).shape.concrete();
  if (x.size() != 4 || y.size() != 4) return "not a 2-D conv";
  const int64_t groups = node.has_attr("group") ? attr_int(node, "group") : 1;
  if (x[0] * groups > 65535) return "batch x groups over the grid's 65535";
  for (const Dims* d : {&x, &y})
    if (product(*d) >= (int64_t{1} << 31)) return "a tensor of 2^31 elements or more";
  return "";
}

namespace {

std::string conv_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (std::string why = cpu::conv2d_rejects(graph, node); !why.empty()) return why;
  if (node.has_input(3) && graph.type(node.inputs[3]).shape.concrete() != graph.type(node.outputs[0]).shape.concrete())
    return "the residual's shape differs from the output's";
  return conv_size_rejects(graph, node, 0);
}

std::string conv_f16_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (!tactic_settings().allow_f16) return "f16 not allowed (--fp16)";
  return conv_rejects(graph, node);
}

class ConvKernel final : public CudaNodeKernel {
 public:
  ConvKernel(std::string_view name, const Graph& graph, const Node& node, bool tensor_cores)
      : CudaNodeKernel(name, tactic_settings().device), tensor_cores_(tensor_cores) {
    problem_ = ConvF32Problem::make(conv_shape(graph, node, 0, 1));
    problem_.w = static_cast<const float*>(keep(*cpu::constant_input(graph, node, 1)));
    if (node.has_input(2)) problem_.bias = static_cast<const float*>(keep(*cpu::constant_input(graph, node, 2)));
    problem_.epilogue.act = activation_of(node);
    problem_.epilogue.residual_after_act = residual_after_activation(node);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    ConvF32Problem p = problem_;
    p.x = io.in<float>(0);
    if (k.has_input(3)) p.epilogue.residual = io.in<float>(3);
    p.y = io.out<float>(0);
    (tensor_cores_ ? kernels().conv_tensor_core_f16 : kernels().conv_simt)(p, stream());
  }
  ConvF32Problem problem_;
  bool tensor_cores_;
};

std::shared_ptr<const NodeKernel> prepare_simt(const Graph& graph, const Node& node) {
  return std::make_shared<ConvKernel>("cuda.conv.simt-implicit-gemm", graph, node, false);
}
std::shared_ptr<const NodeKernel> prepare_f16(const Graph& graph, const Node& node) {
  return std::make_shared<ConvKernel>("cuda.conv.tc-f16-implicit-gemm", graph, node, true);
}

}  // namespace

extern const cpu::Tactic kCudaConvSimt{"cuda.conv.simt-implicit-gemm", OpKind::Conv, conv_rejects, prepare_simt};
extern const cpu::Tactic kCudaConvF16{"cuda.conv.tc-f16-implicit-gemm", OpKind::Conv, conv_f16_rejects, prepare_f16, 2e-3};

}  // namespace nnc::cuda
