#include "models/bevformer/bevformer.h"

#include <chrono>
#include <cmath>

#include "core/error.h"

namespace nnc::bevformer {
namespace fs = std::filesystem;
using detect3d::Mat4;
using detect3d::Vec3;

namespace {

// Cell q = row·size + col of the BEV grid: its ego-frame (x, y) centre.
std::pair<double, double> cell_centre(int64_t q, int size, const std::array<double, 6>& r) {
  const double col = double(q % size), row = double(q / size);
  return {r[0] + (col + 0.5) / size * (r[3] - r[0]), r[1] + (row + 0.5) / size * (r[4] - r[1])};
}

}  // namespace

fs::path default_model_path() { return fs::path(NNC_SOURCE_DIR) / "models/bevformer/bevformer_tiny.onnx"; }

std::pair<Tensor, Tensor> pillar_projection(const std::vector<Mat4>& lidar2img, int bev_size, int heights, int image_w,
                                            int image_h, const std::array<double, 6>& r) {
  const int64_t n = int64_t(lidar2img.size()), q = int64_t(bev_size) * bev_size;
  Tensor ref(DType::F32, {n, 1, q, heights, 2}), mask(DType::F32, {n, 1, q, heights});
  float* ref_out = ref.data<float>();
  float* mask_out = mask.data<float>();
  for (size_t c = 0; c < size_t(n); ++c)
    for (int64_t cell = 0; cell < q; ++cell) {
      const auto [x, y] = cell_centre(cell, bev_size, r);
      for (int k = 0; k < heights; ++k) {
        const double z = r[2] + (k + 0.25) / heights * (r[5] - r[2]);  // MODELS.md: 4 heights at (0.5, 2.5, 4.5, 6.5) / 8
        const Vec3 p = detect3d::transform(lidar2img[c], {x, y, z});
        const double depth = p[2];
        const double u = p[0] / std::max(depth, 1e-5) / image_w, v = p[1] / std::max(depth, 1e-5) / image_h;
        const size_t at = (c * size_t(q) + size_t(cell)) * size_t(heights) + size_t(k);
        ref_out[at * 2] = float(std::clamp(u, -1.0, 2.0));
        ref_out[at * 2 + 1] = float(std::clamp(v, -1.0, 2.0));
        mask_out[at] = depth > 1e-5 && u > 0 && u < 1 && v > 0 && v < 1 ? 1.0f : 0.0f;
      }
    }
  return {std::move(ref), std::move(mask)};
}

std::pair<Tensor, Tensor> align_history(const Tensor& prev_bev, int bev_size, const Vec3& shift, double dyaw,
                                        const std::array<double, 6>& r) {
  const int64_t q = int64_t(bev_size) * bev_size, channels = prev_bev.dims().back();
  Tensor aligned(DType::F32, {1, q, channels}), hist(DType::F32, {1, q, 2});
  const float* src = prev_bev.data<float>();
  float* dst = aligned.data<float>();
  float* hist_out = hist.data<float>();
  const double c = std::cos(dyaw), s = std::sin(dyaw);
  for (int64_t cell = 0; cell < q; ++cell) {
    const auto [x, y] = cell_centre(cell, bev_size, r);
    // The aligned grid has the current heading: its cell (x, y) is the previous grid's R(dyaw)·(x, y).
    const double sx = c * x - s * y, sy = s * x + c * y;
    const double gx = (sx - r[0]) / (r[3] - r[0]) * bev_size - 0.5, gy = (sy - r[1]) / (r[4] - r[1]) * bev_size - 0.5;
    const double x0 = std::floor(gx), y0 = std::floor(gy);
    float* out = dst + cell * channels;
    for (int dy = 0; dy <= 1; ++dy)
      for (int dx = 0; dx <= 1; ++dx) {
        const double xi = x0 + dx, yi = y0 + dy;
        if (xi < 0 || yi < 0 || xi >= bev_size || yi >= bev_size) continue;
        const float w = float((1 - std::abs(gx - xi)) * (1 - std::abs(gy - yi)));
        const float* in = src + (int64_t(yi) * bev_size + int64_t(xi)) * channels;
        for (int64_t ch = 0; ch < channels; ++ch) out[ch] += w * in[ch];
      }
    hist_out[cell * 2] = float((x + shift[0] - r[0]) / (r[3] - r[0]));
    hist_out[cell * 2 + 1] = float((y + shift[1] - r[1]) / (r[4] - r[1]));
  }
  return {std::move(aligned), std::move(hist)};
}

std::pair<Vec3, double> ego_motion(const Mat4& previous, const Mat4& current) {
  // The translation between the poses, expressed in the current ego frame: R_currentᵀ·Δt.
  const double dt[3] = {current[3] - previous[3], current[7] - previous[7], current[11] - previous[11]};
  Vec3 shift{};
  for (size_t i = 0; i < 3; ++i) shift[i] = current[i] * dt[0] + current[4 + i] * dt[1] + current[8 + i] * dt[2];
  return {shift, detect3d::wrap_angle(detect3d::yaw_of(current) - detect3d::yaw_of(previous))};
}

Tensor can_bus(const Vec3& shift, double dyaw) {
  Tensor out(DType::F32, {1, 18});
  float* v = out.data<float>();
  for (size_t i = 0; i < 3; ++i) v[i] = float(shift[i]);
  v[3] = float(std::cos(dyaw / 2));
  v[6] = float(std::sin(dyaw / 2));
  v[16] = float(dyaw);
  v[17] = float(dyaw * 180 / M_PI);
  return out;
}

Detector::Detector(const fs::path& model_path, LoadOptions options)
    : model_(detect3d::load_detector(model_path, options)),
      config_(detect3d::read_detector_config(model_path, {-25.6, -25.6, -5.0, 25.6, 25.6, 3.0}, true)) {
  const std::string what = model_path.string() + " (a BEVFormer model)";
  const Graph& g = model_.graph();
  img_dims_ = detect3d::camera_input_dims(g, what);
  prev_bev_dims_ = detect3d::input_dims(g, "prev_bev", 3, what);
  ref_cam_dims_ = detect3d::input_dims(g, "ref_cam", 5, what);
  const int64_t n = img_dims_[1], q = prev_bev_dims_[1];
  bev_size_ = int(std::lround(std::sqrt(double(q))));
  if (int64_t(bev_size_) * bev_size_ != q)
    bad_input("{}: input 'prev_bev' is {}: {} cells is not a square BEV grid", what, to_string(prev_bev_dims_), q);
  const int64_t z = ref_cam_dims_[3];
  const std::pair<const char*, Dims> expected[] = {{"can_bus", {1, 18}}, {"hist_ref", {1, q, 2}},
                                                   {"ref_cam", {n, 1, q, z, 2}}, {"bev_mask", {n, 1, q, z}}};
  for (const auto& [name, dims] : expected)
    if (const Dims got = detect3d::input_dims(g, name, dims.size(), what); got != dims)
      bad_input("{}: input '{}' is {}, expected {} for {} cameras and a {}x{} BEV", what, name, to_string(got),
                to_string(dims), n, bev_size_, bev_size_);
  detect3d::require_outputs(model_, {"bev_embed", "all_cls_scores", "all_bbox_preds"}, what);
}

std::map<std::string, Tensor> Detector::inputs(const detect3d::Scene& scene, const History& history) const {
  if (int64_t(scene.cameras.size()) != img_dims_[1])
    bad_input("{}: the scene has {} cameras, the model takes {}", scene.folder.string(), scene.cameras.size(), img_dims_[1]);
  detect3d::CameraBatch batch = detect3d::prepare_cameras(scene, image_width(), image_height());
  auto [ref_cam, mask] = pillar_projection(batch.lidar2img, bev_size_, int(ref_cam_dims_[3]), image_width(),
                                           image_height(), config_.pc_range);
  Vec3 shift{};
  double dyaw = 0;
  Tensor prev = history.bev;
  if (!prev.empty_storage() && (prev.dims() != prev_bev_dims_ || prev.dtype() != DType::F32))
    bad_input("{}: the history's BEV is {}, this model's prev_bev is {} (a history from another model?)",
              scene.folder.string(), to_string(prev.type()), to_string(prev_bev_dims_));
  if (prev.empty_storage()) {
    prev = Tensor(DType::F32, prev_bev_dims_);
  } else {
    std::tie(shift, dyaw) = ego_motion(history.ego_to_world, scene.ego_to_world);
  }
  auto [aligned, hist_ref] = align_history(prev, bev_size_, shift, dyaw, config_.pc_range);
  return {{"img", std::move(batch.images)}, {"can_bus", can_bus(shift, dyaw)}, {"prev_bev", std::move(aligned)},
          {"hist_ref", std::move(hist_ref)}, {"ref_cam", std::move(ref_cam)}, {"bev_mask", std::move(mask)}};
}

detect3d::FrameResult Detector::run(const detect3d::Scene& scene, History& history, bool use_history) const {
  detect3d::FrameResult result;
  result.scene = scene.folder;
  result.timestamp = scene.timestamp;
  if (!use_history) history = {};
  auto start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> feeds = inputs(scene, history);
  result.preprocess_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  std::map<std::string, Tensor> outputs = session_.run(feeds);
  result.inference_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  result.boxes = detect3d::decode_boxes(outputs.at("all_cls_scores"), outputs.at("all_bbox_preds"), config_);
  const Tensor& bev = outputs.at("bev_embed");
  if (bev.dims() != prev_bev_dims_ || bev.dtype() != DType::F32)
    bad_input("{}: output bev_embed is {}, but prev_bev takes {}", model_.source(), to_string(bev.type()),
              to_string(prev_bev_dims_));
  history.bev = bev.clone();  // the session's arena reuses its bytes
  history.ego_to_world = scene.ego_to_world;
  result.postprocess_ms = ms_since(start);
  return result;
}

std::vector<detect3d::FrameResult> Detector::run_sequence(const std::vector<detect3d::Scene>& frames, bool use_history) const {
  if (frames.empty()) bad_input("an empty sequence: no frames to run");
  History history;
  std::vector<detect3d::FrameResult> out;
  for (const detect3d::Scene& scene : frames) out.push_back(run(scene, history, use_history));
  return out;
}

}  // namespace nnc::bevformer
