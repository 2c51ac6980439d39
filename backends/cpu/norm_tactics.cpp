// backends/cpu/norm_tactics.cpp — GroupNormalization and InstanceNormalization on f32, with
// the fused activation (a diffusion U-Net's GroupNorm + SiLU) applied as each channel is written.
//
// One task per (batch, group) lane: its mean and variance in two passes over the lane (sum,
// then squared deviations; float within kChunk elements, double across chunks, so long lanes
// stay exact), then every channel of the group as y = x * a + b with a = scale / sqrt(var + eps) and
// b = bias - mean * a, then the activation on the row while it is in cache.
#include <cmath>

#include "backends/cpu/row_math.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/epilogue.h"

namespace nnc::cpu {
namespace {

constexpr int64_t kChunk = 2048;

__attribute__((target_clones("avx512f", "avx2", "default"))) void scale_shift(const float* __restrict x,
                                                                              float* __restrict y, int64_t n, float a,
                                                                              float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * a + b;
}

class GroupNormKernel final : public NodeKernel {
 public:
  GroupNormKernel(std::vector<float> scale, std::vector<float> bias, Activation act)
      : scale_(std::move(scale)), bias_(std::move(bias)), act_(act) {}
  std::string_view tactic() const override { return "norm.fused-lanes"; }

  void run(KernelContext& k) const override {
    const Dims& dims = k.in(0).dims();
    const int64_t batch = dims[0], channels = dims[1];
    const int64_t spatial = k.in(0).numel() / std::max<int64_t>(1, batch * channels);
    const int64_t groups = k.node.op == OpKind::GroupNormalization ? attr_int(k.node, "num_groups") : channels;
    const int64_t per_group = channels / groups;
    const bool per_channel = int64_t(scale_.size()) == channels;
    const double eps = attr_float(k.node, "epsilon");
    const float* src = k.in(0).data<float>();
    float* dst = k.out(0).data<float>();
    parallel_for(batch * groups, [&](int, int64_t begin, int64_t end) {
      for (int64_t lane = begin; lane < end; ++lane) {
        const int64_t group = lane % groups;
        const float* x = src + lane * per_group * spatial;
        float* y = dst + lane * per_group * spatial;
        const int64_t n = per_group * spatial;
        double sum = 0;
        for (int64_t at = 0; at < n; at += kChunk) sum += row_sum(x + at, std::min(kChunk, n - at));
        const double count = double(n);
        const float mean = float(sum / count);
        double deviation = 0;
        for (int64_t at = 0; at < n; at += kChunk) deviation += row_squared_deviation(x + at, std::min(kChunk, n - at), mean);
        const double inv_std = 1.0 / std::sqrt(deviation / count + eps);
        for (int64_t c = 0; c < per_group; ++c) {
          const size_t at = size_t(per_channel ? group * per_group + c : group);
          const double a = scale_[at] * inv_std;
          scale_shift(x + c * spatial, y + c * spatial, spatial, float(a), float(bias_[at] - mean * a));
          act_.apply(y + c * spatial, spatial);
        }
      }
    }, /*min_chunk=*/std::max<int64_t>(1, 32768 / std::max<int64_t>(1, per_group * spatial)));
  }

 private:
  std::vector<float> scale_, bias_;
  Activation act_;
};

std::string norm_rejects(const Graph& g, const Node& n) {
  const TensorType& x = g.type(n.inputs[0]);
  if (x.dtype != DType::F32) return "needs f32";
  if (!x.shape.fully_known() || x.rank() < 2) return "needs a known shape of rank 2 or more";
  if (!constant_input(g, n, 1) || !constant_input(g, n, 2)) return "needs constant scale and bias";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_norm(const Graph& g, const Node& n) {
  auto floats = [](const Tensor& t) {
    const std::vector<double> v = t.to_double_vector();
    return std::vector<float>(v.begin(), v.end());
  };
  return std::make_shared<GroupNormKernel>(floats(*constant_input(g, n, 1)), floats(*constant_input(g, n, 2)),
                                           Activation::of(n));
}

}  // namespace

extern const Tactic kGroupNormFusedLanes{"norm.fused-lanes", OpKind::GroupNormalization, norm_rejects, prepare_norm};
extern const Tactic kInstanceNormFusedLanes{"norm.fused-lanes", OpKind::InstanceNormalization, norm_rejects, prepare_norm};

}  // namespace nnc::cpu
