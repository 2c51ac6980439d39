// backends/cpu/conv_tactics.cpp — 2-D Conv as a GEMM (backends/cpu/gemm.h):
//
//   Y[m, p] = sum_k W[m, k] · col[k, p]      k = (c, kh, kw), p = (oh, ow)
//
// The weights are A, packed once when the tactic is prepared. The column matrix is B and never
// exists: Im2colSource packs each B panel straight from the image (a run of output pixels in
// one row reads a contiguous run of input pixels when the stride is 1). A 1x1, stride-1,
// unpadded conv reads the image as B directly. Bias, the fused residual and the activation are
// the GEMM's epilogue.
#include <algorithm>
#include <cstring>

#include "backends/cpu/gemm.h"
#include "backends/cpu/micro_kernels.h"
#include "backends/cpu/tactic.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

struct Geometry2d {
  int64_t channels, height, width;    // of one image and group
  int64_t kernel_h, kernel_w;
  int64_t out_h, out_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w, pad_h, pad_w;
};

// Packs columns [p0, p0 + width) and rows [k0, k0 + kc) of the column matrix of image `x` as a
// B panel: panel[k * pad + i] = x[c, ih, iw] for row k = (c, kh, kw) and output pixel p0 + i,
// zero where the window hangs over the padding. A free function compiled per instruction set
// (target_clones) so that its copies vectorise inline rather than calling memcpy per run.
__attribute__((target_clones("avx512f", "avx2", "default")))
void pack_im2col_panel(const float* x, const Geometry2d& g, int64_t p0, int64_t width, int64_t k0, int64_t kc, int pad,
                       float* panel) {
  const int64_t taps = g.kernel_h * g.kernel_w;
  int64_t c = k0 / taps, kh = k0 % taps / g.kernel_w, kw = k0 % g.kernel_w;
  for (int64_t k = 0; k < kc; ++k) {
    float* dst = panel + k * pad;
    int64_t oh = p0 / g.out_w, ow = p0 % g.out_w;
    for (int64_t done = 0; done < width; ow = 0, ++oh) {
      const int64_t run = std::min(width - done, g.out_w - ow);  // output pixels left in this row
      float* out = dst + done;
      done += run;
      const int64_t ih = oh * g.stride_h - g.pad_h + kh * g.dilation_h;
      if (ih < 0 || ih >= g.height) {
        for (int64_t t = 0; t < run; ++t) out[t] = 0.0f;
        continue;
      }
      const float* row = x + (c * g.height + ih) * g.width;
      const int64_t iw0 = ow * g.stride_w - g.pad_w + kw * g.dilation_w;
      if (g.stride_w == 1) {
        const int64_t lo = std::clamp<int64_t>(-iw0, 0, run), hi = std::clamp<int64_t>(g.width - iw0, lo, run);
        for (int64_t t = 0; t < lo; ++t) out[t] = 0.0f;
        const float* __restrict src = row + iw0;  // never the panel being written
        float* __restrict dst_run = out;
        for (int64_t t = lo; t < hi; ++t) dst_run[t] = src[t];
        for (int64_t t = hi; t < run; ++t) out[t] = 0.0f;
      } else {
        for (int64_t t = 0; t < run; ++t) {
          const int64_t iw = iw0 + t * g.stride_w;
          out[t] = iw >= 0 && iw < g.width ? row[iw] : 0.0f;
        }
      }
    }
    for (int64_t i = width; i < pad; ++i) dst[i] = 0.0f;
    if (++kw == g.kernel_w) {  // next row of the column matrix: (c, kh, kw) + 1
      kw = 0;
      if (++kh == g.kernel_h) kh = 0, ++c;
    }
  }
}

// B[k, p] of one image and group, packed on demand.
class Im2colSource final : public PanelSource {
 public:
  Im2colSource(const float* image, const Geometry2d& g) : x_(image), g_(g) {}
  const float* panel(int64_t p0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const override {
    pack_im2col_panel(x_, g_, p0, width, k0, kc, pad, scratch);
    return scratch;
  }

 private:
  const float* x_;
  Geometry2d g_;
};

bool is_pointwise(const Geometry2d& g) {
  return g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0 &&
         g.out_h == g.height && g.out_w == g.width;
}

Geometry2d geometry(const Node& node, const Dims& x, const Dims& w) {
  const WindowGeometry geo = window_geometry(node, {x[2], x[3]}, {w[2], w[3]}, false);
  return Geometry2d{w[1],          x[2],           x[3],           w[2],           w[3],
                    geo.output[0], geo.output[1],  geo.stride[0],  geo.stride[1],  geo.dilation[0],
                    geo.dilation[1], geo.pad_begin[0], geo.pad_begin[1]};
}

class ConvGemmKernel final : public NodeKernel {
 public:
  // `image_is_b`: the tactic for 1x1 stride-1 unpadded convs, which reads the image as B.
  ConvGemmKernel(const Node& node, const Tensor& weight, const Tensor* bias, std::string_view tactic, bool image_is_b)
      : image_is_b_(image_is_b), activation_(Activation::of(node)), tactic_(tactic) {
    const Dims& w = weight.dims();
    group_ = attr_int(node, "group");
    maps_per_group_ = w[0] / group_;
    depth_ = w[1] * w[2] * w[3];
    kernel_ = &micro_kernel_for_rows(maps_per_group_);
    for (int64_t g = 0; g < group_; ++g) {
      const StridedSource rows(weight.data<float>() + g * maps_per_group_ * depth_, depth_, 1);
      packed_.push_back(std::make_unique<PackedPanels>(rows, maps_per_group_, depth_, kernel_->mr));
    }
    if (bias) bias_.assign(bias->data<float>(), bias->data<float>() + bias->numel());
  }

  std::string_view tactic() const override { return tactic_; }
  int64_t held_bytes() const override {
    int64_t bytes = 0;
    for (const auto& p : packed_) bytes += p->bytes();
    return bytes;
  }

  void run(KernelContext& k) const override {
    const Tensor& x = k.in(0);
    Tensor& y = k.out(0);
    const Geometry2d g = geometry(k.node, x.dims(), k.in(1).dims());
    const int64_t batch = x.dims()[0], in_size = g.height * g.width, out_size = g.out_h * g.out_w;
    const float* residual = k.has_input(3) ? k.in(3).data<float>() : nullptr;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t grp = 0; grp < group_; ++grp) {
        const float* image = x.data<float>() + (b * group_ + grp) * g.channels * in_size;
        const int64_t first_map = b * group_ * maps_per_group_ + grp * maps_per_group_;
        GemmEpilogue epilogue;
        epilogue.row_bias = bias_.empty() ? nullptr : bias_.data() + grp * maps_per_group_;
        epilogue.residual = residual ? residual + first_map * out_size : nullptr;
        epilogue.ld_residual = out_size;
        epilogue.activation = activation_;
        epilogue.residual_after_activation = residual_after_activation(k.node);
        float* out = y.data<float>() + first_map * out_size;
        if (image_is_b_) {
          gemm(maps_per_group_, out_size, depth_, *packed_[size_t(grp)], StridedSource(image, 1, in_size), out,
               out_size, epilogue, true, kernel_);
        } else {
          gemm(maps_per_group_, out_size, depth_, *packed_[size_t(grp)], Im2colSource(image, g), out, out_size,
               epilogue, true, kernel_);
        }
      }
  }

 private:
  bool image_is_b_;
  const MicroKernel* kernel_ = nullptr;  // chosen for M at prepare time; the packing follows it
  int64_t group_ = 1, maps_per_group_ = 0, depth_ = 0;
  std::vector<std::unique_ptr<PackedPanels>> packed_;
  std::vector<float> bias_;
  Activation activation_;
  std::string_view tactic_;
};

// What every GEMM conv needs: a 2-D f32 conv with constant weights (and bias), known shapes.
std::string gemm_conv_rejects(const Graph& graph, const Node& node) {
  if (std::string why = conv2d_rejects(graph, node); !why.empty()) return why;
  const int64_t group = attr_int(node, "group");
  if (group > 1 && graph.type(node.inputs[1]).shape.dims[0].value == group)
    return "depthwise (a GEMM per channel is too small)";
  return "";
}

std::string im2col_rejects(const Graph& graph, const Node& node) { return gemm_conv_rejects(graph, node); }

std::string pointwise_rejects(const Graph& graph, const Node& node) {
  if (std::string why = gemm_conv_rejects(graph, node); !why.empty()) return why;
  const Geometry2d g = geometry(node, graph.type(node.inputs[0]).shape.concrete(),
                                graph.type(node.inputs[1]).shape.concrete());
  return is_pointwise(g) ? "" : "not 1x1 stride 1 unpadded";
}

std::shared_ptr<const NodeKernel> prepare_im2col(const Graph& graph, const Node& node) {
  return std::make_shared<ConvGemmKernel>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2),
                                          "conv.im2col-gemm", false);
}

std::shared_ptr<const NodeKernel> prepare_pointwise(const Graph& graph, const Node& node) {
  return std::make_shared<ConvGemmKernel>(node, *constant_input(graph, node, 1), constant_input(graph, node, 2),
                                          "conv.1x1-gemm", true);
}

}  // namespace

extern const Tactic kConvIm2colGemm{"conv.im2col-gemm", OpKind::Conv, im2col_rejects, prepare_im2col};
extern const Tactic kConvPointwiseGemm{"conv.1x1-gemm", OpKind::Conv, pointwise_rejects, prepare_pointwise};

}  // namespace nnc::cpu
