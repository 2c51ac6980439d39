// ops/roi_align.cpp — RoiAlign: pools each region of interest of a feature map into a fixed
// output_height x output_width grid by bilinear sampling (Mask R-CNN, He et al. 2017, sec. 3).
// ONNX opsets 10, 16 (coordinate_transformation_mode), 22. https://onnx.ai/onnx/operators/onnx__RoiAlign.html
//
// Inputs: X [N, C, H, W], rois [R, 4] as (x1, y1, x2, y2) in input coordinates before
// spatial_scale, batch_indices [R]. Output [R, C, output_height, output_width].
// Each output bin averages (mode=avg) or takes the max (mode=max) of a grid of sampling points,
// sampling_ratio per side or, when 0, ceil(bin size) per side. Details that decide the numbers,
// matching onnxruntime (whose behaviour the conformance data record):
//  - half_pixel shifts roi corners by -0.5 pixel; output_half_pixel (opset 10's only behaviour)
//    does not, and instead stretches rois smaller than one pixel to one pixel;
//  - a sample more than one pixel outside the map contributes 0; otherwise it is clamped into it;
//  - max mode takes the max over samples of the largest of the four weighted corner values.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype)) node_error(n, "input 0 has type {}; RoiAlign takes float types", dtype_name(x.dtype));
  if (c.in(1).dtype != x.dtype)
    node_error(n, "input 1 (rois) has type {} but X is {}", dtype_name(c.in(1).dtype), dtype_name(x.dtype));
  if (!is_integer(c.in(2).dtype))
    node_error(n, "input 2 (batch_indices) has type {}; it must be an integer type", dtype_name(c.in(2).dtype));
  const std::string mode = attr_string(n, "mode");
  if (mode != "avg" && mode != "max") node_error(n, "mode is '{}'; it must be avg or max", mode);
  const std::string transform = attr_string(n, "coordinate_transformation_mode");
  if (transform != "half_pixel" && transform != "output_half_pixel")
    node_error(n, "coordinate_transformation_mode is '{}'; it must be half_pixel or output_half_pixel", transform);
  const int64_t height = attr_int(n, "output_height"), width = attr_int(n, "output_width");
  if (height <= 0 || width <= 0)
    node_error(n, "the output is {}x{}; output_height and output_width must be positive", height, width);
  if (attr_int(n, "sampling_ratio") < 0) node_error(n, "sampling_ratio is {}; it must not be negative", attr_int(n, "sampling_ratio"));

  if (x.shape.rank_known && x.rank() != 4) node_error(n, "input 0 has rank {}; it must be 4 ([N, C, H, W])", x.rank());
  const Shape& rois = c.in(1).shape;
  const Shape& indices = c.in(2).shape;
  if (rois.rank_known && (rois.rank() != 2 || (rois.dims[1].known() && rois.dims[1].value != 4)))
    node_error(n, "input 1 (rois) is {}; it must be [num_rois, 4]", to_string(rois));
  if (indices.rank_known && indices.rank() != 1)
    node_error(n, "input 2 (batch_indices) is {}; it must be [num_rois]", to_string(indices));
  Dim count = rois.rank_known ? rois.dims[0] : Dim();
  if (indices.rank_known && indices.dims[0].known()) {
    if (count.known() && count.value != indices.dims[0].value)
      node_error(n, "there are {} rois but {} batch indices", count.value, indices.dims[0].value);
    count = indices.dims[0];
  }
  const Dim channels = x.shape.rank_known ? x.shape.dims[1] : Dim();
  return {{x.dtype, Shape(std::vector<Dim>{count, channels, Dim(height), Dim(width)})}};
}

// Bilinear sample of one H x W plane at (y, x): the four corner offsets and weights.
struct Sample {
  int64_t at[4] = {0, 0, 0, 0};
  double weight[4] = {0, 0, 0, 0};
};

Sample bilinear(double y, double x, int64_t height, int64_t width) {
  Sample s;
  if (y < -1.0 || y > double(height) || x < -1.0 || x > double(width)) return s;  // contributes 0
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t y_low = int64_t(y), x_low = int64_t(x), y_high = y_low + 1, x_high = x_low + 1;
  if (y_low >= height - 1) y = double(y_high = y_low = height - 1);
  if (x_low >= width - 1) x = double(x_high = x_low = width - 1);
  const double ly = y - double(y_low), lx = x - double(x_low), hy = 1 - ly, hx = 1 - lx;
  s.at[0] = y_low * width + x_low, s.weight[0] = hy * hx;
  s.at[1] = y_low * width + x_high, s.weight[1] = hy * lx;
  s.at[2] = y_high * width + x_low, s.weight[2] = ly * hx;
  s.at[3] = y_high * width + x_high, s.weight[3] = ly * lx;
  return s;
}

void reference(KernelContext& k) {
  const Node& n = k.node;
  const Dims& xd = k.in(0).dims();
  const int64_t batches = xd[0], channels = xd[1], height = xd[2], width = xd[3];
  const int64_t out_h = attr_int(n, "output_height"), out_w = attr_int(n, "output_width");
  const double scale = attr_float(n, "spatial_scale");
  const int64_t ratio = attr_int(n, "sampling_ratio");
  const bool half_pixel = attr_string(n, "coordinate_transformation_mode") == "half_pixel";
  const bool max_mode = attr_string(n, "mode") == "max";
  const std::vector<double> x = k.in(0).to_double_vector(), rois = k.in(1).to_double_vector();
  const std::vector<int64_t> batch_of = k.in(2).to_int_vector();
  std::vector<double> y(size_t(k.out(0).numel()));

  if (height == 0 || width == 0) return;  // nothing to sample: the output stays zero
  const double offset = half_pixel ? 0.5 : 0.0;
  for (size_t r = 0; r < batch_of.size(); ++r) {
    if (batch_of[r] < 0 || batch_of[r] >= batches)
      node_error(n, "batch_indices[{}] is {} but X has {} images", r, batch_of[r], batches);
    const double* box = rois.data() + 4 * r;
    const double start_w = box[0] * scale - offset, start_h = box[1] * scale - offset;
    double roi_w = box[2] * scale - offset - start_w, roi_h = box[3] * scale - offset - start_h;
    if (!half_pixel) roi_w = std::max(roi_w, 1.0), roi_h = std::max(roi_h, 1.0);
    const double bin_h = roi_h / double(out_h), bin_w = roi_w / double(out_w);
    // A huge or non-finite roi would mean an absurd number of samples per bin: refuse it.
    const double max_grid = 1 << 16;
    if (!(std::abs(roi_h) / double(out_h) <= max_grid && std::abs(roi_w) / double(out_w) <= max_grid))
      node_error(n, "roi {} is {} x {} pixels; that is too large (or not finite) to sample", r, roi_w, roi_h);
    const int64_t grid_h = ratio > 0 ? ratio : int64_t(std::ceil(roi_h / double(out_h)));
    const int64_t grid_w = ratio > 0 ? ratio : int64_t(std::ceil(roi_w / double(out_w)));
    // Samples per bin are held at once and visited per channel: a sampling_ratio (or adaptive
    // grid) of thousands per side is no model's, and billions of samples would never finish.
    if (grid_h > (1 << 12) || grid_w > (1 << 12) || grid_h * grid_w > (1 << 20))
      node_error(n, "roi {} would take {} x {} samples per bin (sampling_ratio {}); at most 2^20 are allowed", r,
                 grid_h, grid_w, ratio);
    const double samples = double(std::max<int64_t>(grid_h * grid_w, 1));
    // The sampling points are the same for every channel: compute them once per bin.
    std::vector<Sample> points;
    for (int64_t ph = 0; ph < out_h; ++ph)
      for (int64_t pw = 0; pw < out_w; ++pw) {
        points.clear();
        for (int64_t iy = 0; iy < grid_h; ++iy)
          for (int64_t ix = 0; ix < grid_w; ++ix)
            points.push_back(bilinear(start_h + double(ph) * bin_h + (double(iy) + 0.5) * bin_h / double(grid_h),
                                      start_w + double(pw) * bin_w + (double(ix) + 0.5) * bin_w / double(grid_w),
                                      height, width));
        for (int64_t ch = 0; ch < channels; ++ch) {
          const double* plane = x.data() + (batch_of[r] * channels + ch) * height * width;
          double sum = 0, max = 0;
          for (size_t p = 0; p < points.size(); ++p) {
            const Sample& s = points[p];
            if (max_mode) {
              double largest = s.weight[0] * plane[s.at[0]];
              for (int corner = 1; corner < 4; ++corner) largest = std::max(largest, s.weight[corner] * plane[s.at[corner]]);
              max = p == 0 ? largest : std::max(max, largest);
            } else {
              for (int corner = 0; corner < 4; ++corner) sum += s.weight[corner] * plane[s.at[corner]];
            }
          }
          y[size_t(((int64_t(r) * channels + ch) * out_h + ph) * out_w + pw)] = max_mode ? max : sum / samples;
        }
      }
  }
  visit_dtype(k.out(0).dtype(), [&]<typename T>() {
    T* out = k.out(0).data<T>();
    for (size_t i = 0; i < y.size(); ++i) out[i] = from_double<T>(y[i]);
  });
}

// Opset 10 had no coordinate_transformation_mode and behaved as output_half_pixel.
void upgrade(Node& n, UpgradeContext& c) {
  if (c.opset < 16 && !n.has_attr("coordinate_transformation_mode"))
    n.set_attr("coordinate_transformation_mode", std::string("output_half_pixel"));
}

}  // namespace

extern const OpDef kRoiAlign{
    .kind = OpKind::RoiAlign,
    .onnx_name = "RoiAlign",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = {AttrSpec{"coordinate_transformation_mode", AttrType::String, std::string("half_pixel")},
              AttrSpec{"mode", AttrType::String, std::string("avg")},
              AttrSpec{"output_height", AttrType::Int, int64_t{1}},
              AttrSpec{"output_width", AttrType::Int, int64_t{1}},
              AttrSpec{"sampling_ratio", AttrType::Int, int64_t{0}},
              AttrSpec{"spatial_scale", AttrType::Float, 1.0f}},
    .infer = infer,
    .reference = reference,
    .upgrade = upgrade,
    .since_opset = 10};

}  // namespace nnc
