// ops/grid_sample.cpp — GridSample: read X at the (x, y) positions a grid gives, in [-1, 1]
// normalised coordinates. ONNX opset 16 (4-D). https://onnx.ai/onnx/operators/onnx__GridSample.html
//
//   X [N, C, H, W], grid [N, Ho, Wo, 2] (x then y)  ->  Y [N, C, Ho, Wo]
// align_corners=1 maps -1 and 1 to the centres of the corner pixels, 0 to their outer edges:
//   x_pixel = (x + 1)/2 · (W − 1)  or  ((x + 1)·W − 1)/2.
// padding_mode for reads outside: zeros, border (clamp), reflection (mirror at the edges the
// same alignment defines). Modes: bilinear (4 taps), nearest (round half to even, as PyTorch's
// nearbyint), bicubic (4×4 taps, Keys' kernel with a = −0.75). Multi-scale deformable attention
// (BEVFormer) is written with this op.
#include <cmath>

#include "ops/grid_sample.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const TensorType& grid = c.in(1);
  if (!is_float(x.dtype) || !is_float(grid.dtype))
    node_error(n, "input and grid must be float types, got {} and {}", dtype_name(x.dtype), dtype_name(grid.dtype));
  const std::string mode = attr_string(n, "mode"), padding = attr_string(n, "padding_mode");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    node_error(n, "mode must be bilinear, nearest or bicubic, got '{}'", mode);
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    node_error(n, "padding_mode must be zeros, border or reflection, got '{}'", padding);
  if (!x.shape.rank_known || !grid.shape.rank_known) return {TensorType{x.dtype, Shape(std::vector<Dim>(4))}};
  if (x.rank() != 4 || grid.rank() != 4) node_error(n, "input and grid must be 4-D, got ranks {} and {}", x.rank(), grid.rank());
  if (grid.shape.dims[3].known() && grid.shape.dims[3].value != 2) node_error(n, "grid's last dim must be 2, got {}", grid.shape.dims[3].value);
  if (x.shape.dims[0].known() && grid.shape.dims[0].known() && x.shape.dims[0].value != grid.shape.dims[0].value)
    node_error(n, "input batch {} differs from grid batch {}", x.shape.dims[0].value, grid.shape.dims[0].value);
  return {TensorType{x.dtype, Shape({x.shape.dims[0], x.shape.dims[1], grid.shape.dims[1], grid.shape.dims[2]})}};
}


double cubic_weight(double t, int k) {  // Keys, a = -0.75, taps at -1, 0, 1, 2
  const double a = -0.75;
  const double x = std::abs(t - double(k - 1));
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

struct Sampler {
  const double* plane;
  int64_t H, W;
  bool align;
  std::string padding;

  double unnormalize(double v, int64_t size) const {
    return align ? (v + 1) / 2 * double(size - 1) : ((v + 1) * double(size) - 1) / 2;
  }
  // Coordinates after border/reflection padding (zeros keeps them as they are).
  double pad_coordinate(double v, int64_t size) const {
    if (padding == "border") return std::clamp(v, 0.0, double(size - 1));
    if (padding == "reflection") {
      v = align ? reflect_coordinate(v, 0, double(size - 1)) : reflect_coordinate(v, -0.5, double(size) - 0.5);
      return std::clamp(v, 0.0, double(size - 1));
    }
    return v;
  }
  double at(int64_t y, int64_t x) const {
    if (padding != "zeros") {  // bicubic taps may still fall outside: clamp them
      y = std::clamp<int64_t>(y, 0, H - 1);
      x = std::clamp<int64_t>(x, 0, W - 1);
    }
    if (y < 0 || y >= H || x < 0 || x >= W) return 0;
    return plane[y * W + x];
  }
};

void reference(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& x = k.in(0);
  const Tensor& grid = k.in(1);
  const int64_t N = x.dims()[0], C = x.dims()[1], H = x.dims()[2], W = x.dims()[3];
  const int64_t Ho = grid.dims()[1], Wo = grid.dims()[2];
  const std::string mode = attr_string(n, "mode");
  const std::vector<double> in = x.to_double_vector(), g = grid.to_double_vector();
  Tensor& y = k.out(0);
  std::vector<double> out(size_t(y.numel()));
  for (int64_t b = 0; b < N; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const Sampler s{in.data() + (b * C + c) * H * W, H, W, attr_int(n, "align_corners") != 0, attr_string(n, "padding_mode")};
      for (int64_t i = 0; i < Ho * Wo; ++i) {
        const double gx = g[size_t((b * Ho * Wo + i) * 2)], gy = g[size_t((b * Ho * Wo + i) * 2 + 1)];
        double px = s.unnormalize(gx, W), py = s.unnormalize(gy, H);
        double v = 0;
        if (mode == "bicubic") {  // padding applies to the taps, not the centre
          const double fx = std::floor(px), fy = std::floor(py);
          for (int ky = 0; ky < 4; ++ky)
            for (int kx = 0; kx < 4; ++kx) {
              double tx = fx - 1 + kx, ty = fy - 1 + ky;
              if (s.padding == "reflection") tx = s.pad_coordinate(tx, W), ty = s.pad_coordinate(ty, H);
              v += cubic_weight(px - fx, kx) * cubic_weight(py - fy, ky) * s.at(int64_t(ty), int64_t(tx));
            }
        } else {
          px = s.pad_coordinate(px, W);
          py = s.pad_coordinate(py, H);
          if (mode == "nearest") {
            v = s.at(int64_t(std::nearbyint(py)), int64_t(std::nearbyint(px)));
          } else {
            const double x0 = std::floor(px), y0 = std::floor(py), wx = px - x0, wy = py - y0;
            v = (1 - wy) * ((1 - wx) * s.at(int64_t(y0), int64_t(x0)) + wx * s.at(int64_t(y0), int64_t(x0) + 1)) +
                wy * ((1 - wx) * s.at(int64_t(y0) + 1, int64_t(x0)) + wx * s.at(int64_t(y0) + 1, int64_t(x0) + 1));
          }
        }
        out[size_t((b * C + c) * Ho * Wo + i)] = v;
      }
    }
  visit_dtype(y.dtype(), [&]<typename T>() {
    for (int64_t i = 0; i < y.numel(); ++i) y.data<T>()[i] = from_double<T>(out[size_t(i)]);
  });
}

}  // namespace

double reflect_coordinate(double v, double low, double high) {
  if (low == high) return low;
  const double span = high - low;
  double d = std::abs(v - low);
  const double flips = std::floor(d / span);
  d -= flips * span;
  return int64_t(flips) % 2 == 0 ? low + d : high - d;
}

extern const OpDef kGridSample{.kind = OpKind::GridSample,
                               .onnx_name = "GridSample",
                               .min_inputs = 2,
                               .max_inputs = 2,
                               .attrs = {AttrSpec{"align_corners", AttrType::Int, int64_t{0}},
                                         AttrSpec{"mode", AttrType::String, std::string("bilinear")},
                                         AttrSpec{"padding_mode", AttrType::String, std::string("zeros")}},
                               .infer = infer,
                               .reference = reference,
                               .since_opset = 16};

}  // namespace nnc
