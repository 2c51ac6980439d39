// backends/cuda/pointwise_tactics.cpp — the memory-bound ops on the GPU: Softmax/LogSoftmax and
// LayerNormalization along the last axis (a warp per row), MaxPool/AveragePool 2-D, Resize of
// the two innermost axes (any mode: the host computes the taps, ops/resize.h), GridSample
// (bilinear/nearest), binary arithmetic with broadcasting, and the unary activations and maths.
#include <algorithm>

#include "backends/cuda/node_kernel.h"
#include "backends/cuda/tactics.h"
#include "ops/epilogue.h"
#include "ops/resize.h"
#include "ops/window_geometry.h"

namespace nnc::cuda {
namespace {

Dims dims_of(const Graph& graph, ValueId v) { return graph.type(v).shape.concrete(); }

std::string common_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  if (std::string why = f32_known_rejects(graph, node); !why.empty()) return why;
  for (ValueId v : node.inputs)
    if (v != kNoValue && product(dims_of(graph, v)) >= (int64_t{1} << 31)) return "a tensor of 2^31 elements or more";
  if (node.outputs.size() != 1) return "more than one output";
  return "";
}

// --- Softmax, LogSoftmax ----------------------------------------------------------------------
// Rows of `width` elements: the reduction runs over everything from `axis` on (opset < 13's 2-D
// coercion) or over the last axis alone.
bool softmax_rows(const Graph& graph, const Node& node, long long& rows, int& width) {
  const Dims d = dims_of(graph, node.inputs[0]);
  if (d.empty()) return false;
  const int axis = normalize_axis(node, node.has_attr("axis") ? attr_int(node, "axis") : -1, int(d.size()));
  const bool coerce = node.has_attr("coerce_2d") && attr_int(node, "coerce_2d") != 0;
  if (!coerce && axis != int(d.size()) - 1) return false;
  const int64_t w = product(std::span(d).subspan(size_t(axis)));
  if (w <= 0 || w > (int64_t{1} << 24)) return false;
  rows = product(std::span(d).first(size_t(axis)));
  width = int(w);
  return true;
}

std::string softmax_rejects(const Graph& graph, const Node& node) {
  if (std::string why = common_rejects(graph, node); !why.empty()) return why;
  long long rows;
  int width;
  return softmax_rows(graph, node, rows, width) ? "" : "the normalised axis is not the last";
}

class SoftmaxKernel final : public CudaNodeKernel {
 public:
  SoftmaxKernel(const Graph& graph, const Node& node)
      : CudaNodeKernel(node.op == OpKind::Softmax ? "cuda.softmax.warp-rows" : "cuda.logsoftmax.warp-rows",
                       tactic_settings().device) {
    softmax_rows(graph, node, a_.rows, a_.width);
    a_.log = node.op == OpKind::LogSoftmax;
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    SoftmaxArgs a = a_;
    a.x = io.in<float>(0);
    a.y = io.out<float>(0);
    kernels().softmax(a, stream());
  }
  SoftmaxArgs a_;
};

// --- LayerNormalization -------------------------------------------------------------------------
std::string layer_norm_rejects(const Graph& graph, const Node& node) {
  if (std::string why = common_rejects(graph, node); !why.empty()) return why;
  const Dims d = dims_of(graph, node.inputs[0]);
  if (d.empty()) return "a scalar input";
  const int axis = normalize_axis(node, attr_int(node, "axis"), int(d.size()));
  const int64_t width = product(std::span(d).subspan(size_t(axis)));
  for (int i : {1, 2})
    if (node.has_input(i) && product(dims_of(graph, node.inputs[size_t(i)])) != width)
      return "scale or bias is broadcast";
  if (width <= 0 || width > (int64_t{1} << 24)) return "rows too long";
  return "";
}

class LayerNormKernel final : public CudaNodeKernel {
 public:
  LayerNormKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.layernorm.warp-rows", tactic_settings().device) {
    const Dims d = dims_of(graph, node.inputs[0]);
    const int axis = normalize_axis(node, attr_int(node, "axis"), int(d.size()));
    a_.width = int(product(std::span(d).subspan(size_t(axis))));
    a_.rows = product(std::span(d).first(size_t(axis)));
    a_.epsilon = attr_float(node, "epsilon");
    has_bias_ = node.has_input(2);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    LayerNormArgs a = a_;
    a.x = io.in<float>(0);
    a.scale = io.in<float>(1);
    if (has_bias_) a.bias = io.in<float>(2);
    a.y = io.out<float>(0);
    kernels().layer_norm(a, stream());
  }
  LayerNormArgs a_;
  bool has_bias_ = false;
};

// --- GroupNormalization, InstanceNormalization ---------------------------------------------------
std::string group_norm_rejects(const Graph& graph, const Node& node) {
  if (std::string why = common_rejects(graph, node); !why.empty()) return why;
  const Dims x = dims_of(graph, node.inputs[0]);
  if (x.size() < 2 || x[1] == 0) return "no channel axis";
  const int64_t groups = node.op == OpKind::GroupNormalization ? attr_int(node, "num_groups") : x[1];
  if (groups <= 0 || x[1] % groups != 0) return "channels not divisible into the groups";
  const int64_t params = product(dims_of(graph, node.inputs[1]));
  if (params != x[1] && params != groups) return "scale is neither per channel nor per group";
  if (product(dims_of(graph, node.inputs[2])) != params) return "bias and scale differ in size";
  if (x[0] * groups >= (int64_t{1} << 31)) return "too many lanes";
  return "";
}

class GroupNormKernel final : public CudaNodeKernel {
 public:
  GroupNormKernel(const Graph& graph, const Node& node)
      : CudaNodeKernel(node.op == OpKind::GroupNormalization ? "cuda.groupnorm.block-lanes" : "cuda.instancenorm.block-lanes",
                       tactic_settings().device) {
    const Dims x = dims_of(graph, node.inputs[0]);
    a_.groups = int(node.op == OpKind::GroupNormalization ? attr_int(node, "num_groups") : x[1]);
    a_.per_group = int(x[1] / a_.groups);
    a_.lanes = int(x[0] * a_.groups);
    a_.spatial = product(x) / std::max<int64_t>(1, x[0] * x[1]);
    a_.per_channel = product(dims_of(graph, node.inputs[1])) == x[1];
    a_.epsilon = attr_float(node, "epsilon");
    a_.act = activation_of(node);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    GroupNormArgs a = a_;
    a.x = io.in<float>(0);
    a.scale = io.in<float>(1);
    a.bias = io.in<float>(2);
    a.y = io.out<float>(0);
    kernels().group_norm(a, stream());
  }
  GroupNormArgs a_;
};

// --- MaxPool, AveragePool -----------------------------------------------------------------------
std::string pool_rejects(const Graph& graph, const Node& node) {
  if (std::string why = common_rejects(graph, node); !why.empty()) return why;
  if (dims_of(graph, node.inputs[0]).size() != 4) return "not a 2-D pool";
  if (node.op == OpKind::MaxPool && node.has_attr("storage_order") && attr_int(node, "storage_order") != 0)
    return "storage_order 1";
  // The kernel indexes in int: the window's numbers must stay far from its limits.
  const Dims x = dims_of(graph, node.inputs[0]);
  const WindowGeometry g = window_geometry(node, {x[2], x[3]}, attr_ints(node, "kernel_shape"), true);
  for (const std::vector<int64_t>* v : {&g.kernel, &g.stride, &g.dilation, &g.pad_begin, &g.pad_end, &g.input})
    for (int64_t e : *v)
      if (e > (int64_t{1} << 24)) return "a window size, stride, dilation or pad over 2^24";
  return "";
}

class PoolKernel final : public CudaNodeKernel {
 public:
  PoolKernel(const Graph& graph, const Node& node)
      : CudaNodeKernel(node.op == OpKind::MaxPool ? "cuda.maxpool.direct-2d" : "cuda.avgpool.direct-2d",
                       tactic_settings().device) {
    const Dims x = dims_of(graph, node.inputs[0]), y = dims_of(graph, node.outputs[0]);
    const std::vector<int64_t> kernel = attr_ints(node, "kernel_shape");
    const WindowGeometry g = window_geometry(node, {x[2], x[3]}, kernel, true);
    a_.NC = int(x[0] * x[1]), a_.H = int(x[2]), a_.W = int(x[3]), a_.OH = int(y[2]), a_.OW = int(y[3]);
    a_.KH = int(kernel[0]), a_.KW = int(kernel[1]);
    a_.SH = int(g.stride[0]), a_.SW = int(g.stride[1]), a_.DH = int(g.dilation[0]), a_.DW = int(g.dilation[1]);
    a_.PH = int(g.pad_begin[0]), a_.PW = int(g.pad_begin[1]);
    a_.pad_end_h = int(g.pad_end[0]), a_.pad_end_w = int(g.pad_end[1]);
    a_.max = node.op == OpKind::MaxPool;
    a_.count_include_pad = node.op == OpKind::AveragePool && attr_int(node, "count_include_pad") != 0;
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    PoolArgs a = a_;
    a.x = io.in<float>(0);
    a.y = io.out<float>(0);
    kernels().pool2d(a, stream());
  }
  PoolArgs a_;
};

// --- Resize -------------------------------------------------------------------------------------
std::string resize_rejects(const Graph& graph, const Node& node) {
  if (std::string why = device_rejects(); !why.empty()) return why;
  const TensorType& x = graph.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known() || x.rank() != 4) return "not a 4-D f32 input of known shape";
  for (int i = 1; i < int(node.inputs.size()); ++i)
    if (node.has_input(i) && !cpu::constant_input(graph, node, i)) return "roi, scales or sizes not constant";
  const auto input = [&](int i) { return node.has_input(i) ? cpu::constant_input(graph, node, i) : nullptr; };
  const Dims dims = x.shape.concrete();
  const std::vector<ResizeTaps> taps = resize_taps(node, dims, input(1), input(2), input(3));
  if (!copies_axis(taps[0], dims[0]) || !copies_axis(taps[1], dims[1])) return "resizes the batch or channel axis";
  for (const ResizeTaps& t : taps)
    if (std::find(t.outside.begin(), t.outside.end(), 1) != t.outside.end()) return "tf_crop_and_resize reads outside";
  if (product(dims_of(graph, node.outputs[0])) >= (int64_t{1} << 31)) return "a tensor of 2^31 elements or more";
  return "";
}

class ResizeKernel final : public CudaNodeKernel {
 public:
  ResizeKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.resize.taps-2d", tactic_settings().device) {
    const Dims x = dims_of(graph, node.inputs[0]), y = dims_of(graph, node.outputs[0]);
    const auto input = [&](int i) { return node.has_input(i) ? cpu::constant_input(graph, node, i) : nullptr; };
    const std::vector<ResizeTaps> taps = resize_taps(node, x, input(1), input(2), input(3));
    a_.planes = int(x[0] * x[1]), a_.H = int(x[2]), a_.W = int(x[3]), a_.OH = int(y[2]), a_.OW = int(y[3]);
    const auto upload = [&](const ResizeTaps& t, int size, int& width, const int*& index, const float*& weight) {
      // An untouched axis is one tap of weight 1 at the same coordinate.
      std::vector<int> i;
      std::vector<float> w;
      if (t.identity) {
        for (int o = 0; o < size; ++o) i.push_back(o), w.push_back(1.0f);
        width = 1;
      } else {
        for (int64_t v : t.index) i.push_back(int(v));
        for (double v : t.weight) w.push_back(float(v));
        width = int(t.width);
      }
      index = keep(i);
      weight = keep(w);
    };
    upload(taps[2], a_.OH, a_.taps_h, a_.index_h, a_.weight_h);
    upload(taps[3], a_.OW, a_.taps_w, a_.index_w, a_.weight_w);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    ResizeArgs a = a_;
    a.x = io.in<float>(0);
    a.y = io.out<float>(0);
    kernels().resize2d(a, stream());
  }
  ResizeArgs a_;
};

// --- GridSample ---------------------------------------------------------------------------------
std::string grid_sample_rejects(const Graph& graph, const Node& node) {
  if (std::string why = common_rejects(graph, node); !why.empty()) return why;
  if (attr_string(node, "mode") == "bicubic") return "bicubic";
  if (dims_of(graph, node.inputs[0]).size() != 4) return "not 4-D";
  return "";
}

class GridSampleKernel final : public CudaNodeKernel {
 public:
  GridSampleKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.gridsample.direct", tactic_settings().device) {
    const Dims x = dims_of(graph, node.inputs[0]), y = dims_of(graph, node.outputs[0]);
    a_.N = int(x[0]), a_.C = int(x[1]), a_.H = int(x[2]), a_.W = int(x[3]), a_.OH = int(y[2]), a_.OW = int(y[3]);
    a_.nearest = attr_string(node, "mode") == "nearest";
    a_.align_corners = attr_int(node, "align_corners") != 0;
    const std::string padding = attr_string(node, "padding_mode");
    a_.padding = padding == "border" ? GridPadding::Border : padding == "reflection" ? GridPadding::Reflection : GridPadding::Zeros;
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    GridSampleArgs a = a_;
    a.x = io.in<float>(0);
    a.grid = io.in<float>(1);
    a.y = io.out<float>(0);
    kernels().grid_sample(a, stream());
  }
  GridSampleArgs a_;
};

// --- binary and unary elementwise ---------------------------------------------------------------
bool binary_op(OpKind op, BinaryOp& out) {
  switch (op) {
    case OpKind::Add: out = BinaryOp::Add; return true;
    case OpKind::Sub: out = BinaryOp::Sub; return true;
    case OpKind::Mul: out = BinaryOp::Mul; return true;
    case OpKind::Div: out = BinaryOp::Div; return true;
    case OpKind::Max: out = BinaryOp::Max; return true;
    case OpKind::Min: out = BinaryOp::Min; return true;
    case OpKind::Pow: out = BinaryOp::Pow; return true;
    default: return false;
  }
}

std::string binary_rejects(const Graph& graph, const Node& node) {
  if (std::string why = common_rejects(graph, node); !why.empty()) return why;
  if (node.inputs.size() != 2) return "not two inputs";
  if (dims_of(graph, node.outputs[0]).size() > size_t(kMaxRank)) return "rank over 8";
  return "";
}

class BinaryKernel final : public CudaNodeKernel {
 public:
  BinaryKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.binary.broadcast", tactic_settings().device) {
    binary_op(node.op, a_.op);
    const Dims y = dims_of(graph, node.outputs[0]);
    a_.rank = int(y.size());
    a_.count = product(y);
    for (int input = 0; input < 2; ++input) {
      const Dims x = dims_of(graph, node.inputs[size_t(input)]);
      long long stride = 1;
      for (int d = a_.rank - 1; d >= 0; --d) {
        const int xd = d - (a_.rank - int(x.size()));
        const long long s = (xd < 0 || x[size_t(xd)] == 1) ? 0 : stride;
        (input == 0 ? a_.a_stride : a_.b_stride)[d] = s;
        if (xd >= 0) stride *= x[size_t(xd)];
      }
      if (const Tensor* c = cpu::constant_input(graph, node, input)) constant_[input] = static_cast<const float*>(keep(*c));
    }
    for (int d = 0; d < a_.rank; ++d) a_.dims[d] = y[size_t(d)];
    a_.act = activation_of(node);
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    BinaryArgs a = a_;
    a.a = constant_[0] ? constant_[0] : io.in<float>(0);
    a.b = constant_[1] ? constant_[1] : io.in<float>(1);
    a.y = io.out<float>(0);
    kernels().binary(a, stream());
  }
  BinaryArgs a_;
  const float* constant_[2] = {nullptr, nullptr};
};

bool unary_op(const Node& node, UnaryArgs& a) {
  using K = Act;
  switch (node.op) {
    case OpKind::Relu: a.act.kind = K::Relu; return true;
    case OpKind::Sigmoid: a.act.kind = K::Sigmoid; return true;
    case OpKind::Tanh: a.act.kind = K::Tanh; return true;
    case OpKind::HardSwish: a.act.kind = K::HardSwish; return true;
    case OpKind::LeakyRelu: a.act = {K::LeakyRelu, attr_float(node, "alpha"), 0}; return true;
    case OpKind::HardSigmoid: a.act = {K::HardSigmoid, attr_float(node, "alpha"), attr_float(node, "beta")}; return true;
    case OpKind::Exp: a.op = UnaryOp::Exp; return true;
    case OpKind::Log: a.op = UnaryOp::Log; return true;
    case OpKind::Sqrt: a.op = UnaryOp::Sqrt; return true;
    case OpKind::Abs: a.op = UnaryOp::Abs; return true;
    case OpKind::Neg: a.op = UnaryOp::Neg; return true;
    case OpKind::Reciprocal: a.op = UnaryOp::Reciprocal; return true;
    case OpKind::Erf: a.op = UnaryOp::Erf; return true;
    default: return false;
  }
}

class UnaryKernel final : public CudaNodeKernel {
 public:
  UnaryKernel(const Graph& graph, const Node& node) : CudaNodeKernel("cuda.unary.direct", tactic_settings().device) {
    unary_op(node, a_);
    a_.count = product(dims_of(graph, node.outputs[0]));
  }

 private:
  void enqueue(KernelContext& k, DeviceIo& io) const override {
    UnaryArgs a = a_;
    a.x = io.in<float>(0);
    a.y = io.out<float>(0);
    kernels().unary(a, stream());
  }
  UnaryArgs a_;
};

template <class K>
std::shared_ptr<const NodeKernel> prepare(const Graph& graph, const Node& node) {
  return std::make_shared<K>(graph, node);
}

}  // namespace

extern const cpu::Tactic kCudaSoftmax{"cuda.softmax.warp-rows", OpKind::Softmax, softmax_rejects, prepare<SoftmaxKernel>};
extern const cpu::Tactic kCudaLogSoftmax{"cuda.logsoftmax.warp-rows", OpKind::LogSoftmax, softmax_rejects, prepare<SoftmaxKernel>};
extern const cpu::Tactic kCudaLayerNorm{"cuda.layernorm.warp-rows", OpKind::LayerNormalization, layer_norm_rejects,
                                        prepare<LayerNormKernel>};
extern const cpu::Tactic kCudaGroupNorm{"cuda.groupnorm.block-lanes", OpKind::GroupNormalization, group_norm_rejects,
                                        prepare<GroupNormKernel>};
extern const cpu::Tactic kCudaInstanceNorm{"cuda.instancenorm.block-lanes", OpKind::InstanceNormalization,
                                           group_norm_rejects, prepare<GroupNormKernel>};
extern const cpu::Tactic kCudaMaxPool{"cuda.maxpool.direct-2d", OpKind::MaxPool, pool_rejects, prepare<PoolKernel>};
extern const cpu::Tactic kCudaAveragePool{"cuda.avgpool.direct-2d", OpKind::AveragePool, pool_rejects, prepare<PoolKernel>};
extern const cpu::Tactic kCudaResize{"cuda.resize.taps-2d", OpKind::Resize, resize_rejects, prepare<ResizeKernel>};
extern const cpu::Tactic kCudaGridSample{"cuda.gridsample.direct", OpKind::GridSample, grid_sample_rejects,
                                         prepare<GridSampleKernel>};

std::vector<cpu::Tactic> elementwise_tactics() {
  std::vector<cpu::Tactic> out;
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Max, OpKind::Min, OpKind::Pow})
    out.push_back({"cuda.binary.broadcast", op, binary_rejects, prepare<BinaryKernel>});
  for (OpKind op : {OpKind::Relu, OpKind::Sigmoid, OpKind::Tanh, OpKind::HardSwish, OpKind::LeakyRelu, OpKind::HardSigmoid,
                    OpKind::Exp, OpKind::Log, OpKind::Sqrt, OpKind::Abs, OpKind::Neg, OpKind::Reciprocal, OpKind::Erf})
    out.push_back({"cuda.unary.direct", op, common_rejects, prepare<UnaryKernel>});
  return out;
}

}  // namespace nnc::cuda
