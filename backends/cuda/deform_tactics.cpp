// backends/cuda/deform_tactics.cpp — MSDeformAttn and DeformConv on the GPU (the deformable ops
// BEVFormer and PETR's DCN backbones need; kernels in kernels/deform.cuh).
#include "backends/cuda/node_kernel.h"
#include "backends/cuda/tactics.h"
#include "ops/deform_conv.h"
#include "ops/ms_deform_attn.h"

namespace nnc::cuda {
namespace {

// --- MSDeformAttn ---------------------------------------------------------------------------------
std::string deform_attn_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  for (int i : {0, 3, 4})
    if (graph.type(node.inputs[size_t(i)]).dtype != DType::F32 || !graph.type(node.inputs[size_t(i)]).shape.fully_known())
      return "value, locations or weights not f32 of known shape";
  const Tensor* shapes = cpu::constant_input(graph, node, 1);
  if (!shapes) return "spatial_shapes is not constant";
  if (node.has_input(2) && !cpu::constant_input(graph, node, 2)) return "level_start_index is not constant";
  const Dims v = graph.type(node.inputs[0]).shape.concrete(), loc = graph.type(node.inputs[3]).shape.concrete();
  try {
    const DeformAttnLevels levels =
        deform_attn_levels(node, *shapes, node.has_input(2) ? cpu::constant_input(graph, node, 2) : nullptr, v[1]);
    if (levels.count() > kMaxDeformLevels) return fmt::format("more than {} levels", kMaxDeformLevels);
  } catch (const Error& e) {
    return e.what();
  }
  if (product(v) >= (int64_t{1} << 31) || product(loc) >= (int64_t{1} << 31)) return "a tensor of 2^31 elements or more";
  return "";
}

class DeformAttnKernel final : public CudaNodeKernel {
 public:
  DeformAttnKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.deform-attn.gather", tactic_settings().device) {
    const Dims v = graph.type(node.inputs[0]).shape.concrete(), loc = graph.type(node.inputs[3]).shape.concrete();
    a_.B = int(v[0]), a_.S = int(v[1]), a_.M = int(v[2]), a_.D = int(v[3]);
    a_.Q = int(loc[1]), a_.L = int(loc[3]), a_.P = int(loc[4]);
    const DeformAttnLevels levels = deform_attn_levels(node, *cpu::constant_input(graph, node, 1),
                                                       node.has_input(2) ? cpu::constant_input(graph, node, 2) : nullptr, v[1]);
    for (int64_t l = 0; l < levels.count(); ++l) {
      a_.height[l] = int(levels.height[size_t(l)]);
      a_.width[l] = int(levels.width[size_t(l)]);
      a_.start[l] = int(levels.start[size_t(l)]);
    }
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    DeformAttnArgs a = a_;
    a.value = io.in<float>(0);
    a.locations = io.in<float>(3);
    a.weights = io.in<float>(4);
    a.out = io.out<float>(0);
    kernels().deform_attn(a, stream());
  }
  DeformAttnArgs a_;
};

// --- DeformConv -----------------------------------------------------------------------------------
std::string deform_conv_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (std::string why = f32_known_rejects(graph, node); !why.empty()) return why;
  if (!cpu::constant_input(graph, node, 1)) return "weights are not constant";
  if (node.has_input(3) && !cpu::constant_input(graph, node, 3)) return "bias is not constant";
  const Dims x = graph.type(node.inputs[0]).shape.concrete();
  if (x.size() != 4) return "not 2-D";
  for (ValueId v : node.inputs)
    if (v != kNoValue && product(graph.type(v).shape.concrete()) >= (int64_t{1} << 31)) return "a tensor of 2^31 elements or more";
  if (x[0] * attr_int(node, "group") > 65535) return "batch x groups over the grid's 65535";
  return "";
}

std::string deform_conv_f16_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (!tactic_settings().allow_f16) return "f16 not allowed (--fp16)";
  return deform_conv_rejects(graph, node);
}

class DeformConvKernel final : public CudaNodeKernel {
 public:
  DeformConvKernel(std::string_view name, const Graph& graph, const Node& node, bool tensor_cores)
      : CudaNodeKernel(name, tactic_settings().device), tensor_cores_(tensor_cores) {
    const DeformConvGeometry g = deform_conv_geometry(node, graph.type(node.inputs[0]).shape.concrete(),
                                                      graph.type(node.inputs[1]).shape.concrete());
    DeformConvProblem& p = p_;
    p.images = int(g.batch), p.C = int(g.channels), p.H = int(g.height), p.W = int(g.width);
    p.Mo = int(g.maps), p.OH = int(g.out_h), p.OW = int(g.out_w), p.KH = int(g.kernel_h), p.KW = int(g.kernel_w);
    p.SH = int(g.stride_h), p.SW = int(g.stride_w), p.PH = int(g.pad_top), p.PW = int(g.pad_left);
    p.DH = int(g.dilation_h), p.DW = int(g.dilation_w), p.groups = int(g.group), p.offset_groups = int(g.offset_group);
    p.M = p.Mo / p.groups, p.N = p.OH * p.OW, p.K = int(g.channels_per_group * g.kernel_h * g.kernel_w);
    p.batch = p.images * p.groups;
    p.w = static_cast<const float*>(keep(*cpu::constant_input(graph, node, 1)));
    if (node.has_input(3)) p.bias = static_cast<const float*>(keep(*cpu::constant_input(graph, node, 3)));
    has_mask_ = node.has_input(4);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    DeformConvProblem p = p_;
    p.x = io.in<float>(0);
    p.offset = io.in<float>(2);
    if (has_mask_) p.mask = io.in<float>(4);
    p.y = io.out<float>(0);
    (tensor_cores_ ? kernels().deform_conv_tensor_core_f16 : kernels().deform_conv_simt)(p, stream());
  }
  DeformConvProblem p_;
  bool tensor_cores_;
  bool has_mask_ = false;
};

std::shared_ptr<const NodeKernel> prepare_attn(const Graph& graph, const Node& node) {
  return std::make_shared<DeformAttnKernel>(graph, node);
}
std::shared_ptr<const NodeKernel> prepare_conv_simt(const Graph& graph, const Node& node) {
  return std::make_shared<DeformConvKernel>("cuda.deform-conv.simt-implicit-gemm", graph, node, false);
}
std::shared_ptr<const NodeKernel> prepare_conv_f16(const Graph& graph, const Node& node) {
  return std::make_shared<DeformConvKernel>("cuda.deform-conv.tc-f16-implicit-gemm", graph, node, true);
}

}  // namespace

extern const cpu::Tactic kCudaDeformAttn{"cuda.deform-attn.gather", OpKind::MSDeformAttn, deform_attn_rejects, prepare_attn};
extern const cpu::Tactic kCudaDeformConvSimt{"cuda.deform-conv.simt-implicit-gemm", OpKind::DeformConv, deform_conv_rejects,
                                             prepare_conv_simt};
extern const cpu::Tactic kCudaDeformConvF16{"cuda.deform-conv.tc-f16-implicit-gemm", OpKind::DeformConv,
                                            deform_conv_f16_rejects, prepare_conv_f16, 2e-3};

}  // namespace nnc::cuda
