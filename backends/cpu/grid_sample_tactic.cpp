// backends/cpu/grid_sample_tactic.cpp — grid-sample.bilinear-taps: GridSample on f32, bilinear,
// any padding mode and alignment (BEVFormer's deformable attention samples its value maps this
// way). Where and how much to read depends only on the grid, not the channel, so each block of
// output points first turns its grid entries into four (offset, weight) taps, in double as the
// reference kernel computes them (a tap outside the image under zeros padding gets weight 0),
// and then every channel is four multiply-adds per point from those taps.
#include <cmath>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/grid_sample.h"

namespace nnc::cpu {
namespace {

constexpr int64_t kPoints = 256;  // output points per block: their taps stay in L1

enum class Padding { Zeros, Border, Reflection };

class GridSampleKernel final : public NodeKernel {
 public:
  GridSampleKernel(bool align, Padding padding) : align_(align), padding_(padding) {}
  std::string_view tactic() const override { return "grid-sample.bilinear-taps"; }

  void run(KernelContext& k) const override {
    const Dims& xd = k.in(0).dims();
    const int64_t N = xd[0], C = xd[1], H = xd[2], W = xd[3];
    const int64_t points = k.in(1).dims()[1] * k.in(1).dims()[2];
    const int64_t blocks = (points + kPoints - 1) / kPoints;
    const float* x = k.in(0).data<float>();
    const float* grid = k.in(1).data<float>();
    float* y = k.out(0).data<float>();
    parallel_for(N * blocks, [&](int, int64_t begin, int64_t end) {
      int64_t offset[kPoints][4];
      float weight[kPoints][4];
      for (int64_t task = begin; task < end; ++task) {
        const int64_t b = task / blocks, p0 = task % blocks * kPoints, count = std::min(kPoints, points - p0);
        for (int64_t i = 0; i < count; ++i) {
          const float* g = grid + (b * points + p0 + i) * 2;
          taps(double(g[0]), double(g[1]), H, W, offset[i], weight[i]);
        }
        for (int64_t c = 0; c < C; ++c) {
          const float* plane = x + (b * C + c) * H * W;
          float* out = y + (b * C + c) * points + p0;
          for (int64_t i = 0; i < count; ++i)
            out[i] = weight[i][0] * plane[offset[i][0]] + weight[i][1] * plane[offset[i][1]] +
                     weight[i][2] * plane[offset[i][2]] + weight[i][3] * plane[offset[i][3]];
        }
      }
    });
  }

 private:
  double unnormalize(double v, int64_t size) const {
    return align_ ? (v + 1) / 2 * double(size - 1) : ((v + 1) * double(size) - 1) / 2;
  }
  double pad(double v, int64_t size) const {
    if (padding_ == Padding::Border) return std::clamp(v, 0.0, double(size - 1));
    if (padding_ == Padding::Reflection) {
      v = align_ ? reflect_coordinate(v, 0, double(size - 1)) : reflect_coordinate(v, -0.5, double(size) - 0.5);
      return std::clamp(v, 0.0, double(size - 1));
    }
    return v;
  }

  // The four taps of grid point (gx, gy): top-left, top-right, bottom-left, bottom-right.
  void taps(double gx, double gy, int64_t H, int64_t W, int64_t* offset, float* weight) const {
    const double px = pad(unnormalize(gx, W), W), py = pad(unnormalize(gy, H), H);
    if (!std::isfinite(px) || !std::isfinite(py)) {  // NaN grid entries read nothing
      for (int t = 0; t < 4; ++t) offset[t] = 0, weight[t] = std::numeric_limits<float>::quiet_NaN();
      return;
    }
    const double x0 = std::floor(px), y0 = std::floor(py), wx = px - x0, wy = py - y0;
    const double w[4] = {(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx};
    for (int t = 0; t < 4; ++t) {
      int64_t ty = int64_t(y0) + t / 2, tx = int64_t(x0) + t % 2;
      if (padding_ != Padding::Zeros) {  // coordinates are inside; the +1 tap may not be
        ty = std::clamp<int64_t>(ty, 0, H - 1);
        tx = std::clamp<int64_t>(tx, 0, W - 1);
      }
      const bool inside = ty >= 0 && ty < H && tx >= 0 && tx < W;
      offset[t] = inside ? ty * W + tx : 0;
      weight[t] = inside ? float(w[t]) : 0.0f;
    }
  }

  bool align_;
  Padding padding_;
};

std::string grid_sample_rejects(const Graph& g, const Node& node) {
  const TensorType &x = g.type(node.inputs[0]), &grid = g.type(node.inputs[1]);
  if (x.dtype != DType::F32 || grid.dtype != DType::F32 || !x.shape.fully_known() || !grid.shape.fully_known())
    return "not f32 with known shapes";
  if (attr_string(node, "mode") != "bilinear") return "not bilinear";
  const Dims xd = x.shape.concrete();
  if (xd[2] == 0 || xd[3] == 0) return "empty image";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_grid_sample(const Graph&, const Node& node) {
  const std::string padding = attr_string(node, "padding_mode");
  return std::make_shared<GridSampleKernel>(attr_int(node, "align_corners") != 0,
                                            padding == "border"       ? Padding::Border
                                            : padding == "reflection" ? Padding::Reflection
                                                                      : Padding::Zeros);
}

}  // namespace

extern const Tactic kGridSampleBilinearTaps{"grid-sample.bilinear-taps", OpKind::GridSample, grid_sample_rejects,
                                            prepare_grid_sample};

}  // namespace nnc::cpu
