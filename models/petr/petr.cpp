#include "models/petr/petr.h"

#include <chrono>
#include <cmath>

#include "core/error.h"

namespace nnc::petr {
namespace fs = std::filesystem;
using detect3d::Mat4;

namespace {

// PETR's inverse_sigmoid: log(x / (1 - x)) of x clamped to [0, 1], both terms at least 1e-5.
float inverse_sigmoid(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return float(std::log(std::max(x, 1e-5) / std::max(1 - x, 1e-5)));
}

}  // namespace

fs::path default_model_path() { return fs::path(NNC_SOURCE_DIR) / "models/petr/petr_tiny.onnx"; }

Tensor frustum_coords(const std::vector<Mat4>& lidar2img, int image_h, int image_w, int depths, int feat_h, int feat_w,
                      const std::array<double, 6>& range) {
  const int64_t n = int64_t(lidar2img.size());
  Tensor out(DType::F32, {n, 3 * int64_t(depths), feat_h, feat_w});
  float* dst = out.data<float>();
  const size_t cells = size_t(feat_h) * size_t(feat_w);
  for (size_t c = 0; c < lidar2img.size(); ++c) {
    const Mat4 img2lidar = detect3d::inverse(lidar2img[c], fmt::format("camera {}'s lidar2img", c));
    for (int k = 0; k < depths; ++k) {
      const double d = 1 + 60.2 / (double(depths) * (depths + 1)) * k * (k + 1);
      for (int i = 0; i < feat_h; ++i)
        for (int j = 0; j < feat_w; ++j) {
          const double u = double(j) * image_w / feat_w, v = double(i) * image_h / feat_h;
          double w = 1;
          const detect3d::Vec3 p = detect3d::transform(img2lidar, {u * d, v * d, d}, &w);
          // The projective row of img2lidar is (0, 0, 0, 1) for a rigid camera; divide anyway.
          for (size_t a = 0; a < 3; ++a) {
            const double x = (p[a] / w - range[a]) / (range[a + 3] - range[a]);
            dst[((c * size_t(depths) + size_t(k)) * 3 + a) * cells + size_t(i) * size_t(feat_w) + size_t(j)] = inverse_sigmoid(x);
          }
        }
    }
  }
  return out;
}

Detector::Detector(const fs::path& model_path, LoadOptions options)
    : model_(detect3d::load_detector(model_path, options)),
      config_(detect3d::read_detector_config(model_path, {-51.2, -51.2, -5.0, 51.2, 51.2, 3.0}, false)) {
  const std::string what = model_path.string() + " (a PETR model)";
  img_dims_ = detect3d::camera_input_dims(model_.graph(), what);
  coords_dims_ = detect3d::input_dims(model_.graph(), "coords", 4, what);
  if (coords_dims_[0] != img_dims_[1] || coords_dims_[1] % 3 != 0)
    bad_input("{}: input 'coords' is {}, expected [N,3·depths,Hf,Wf] with N = {} cameras", what, to_string(coords_dims_),
              img_dims_[1]);
  detect3d::require_outputs(model_, {"all_cls_scores", "all_bbox_preds"}, what);
}

std::map<std::string, Tensor> Detector::inputs(const detect3d::Scene& scene) const {
  if (int64_t(scene.cameras.size()) != img_dims_[1])
    bad_input("{}: the scene has {} cameras, the model takes {}", scene.folder.string(), scene.cameras.size(), img_dims_[1]);
  detect3d::CameraBatch batch = detect3d::prepare_cameras(scene, image_width(), image_height());
  Tensor coords = frustum_coords(batch.lidar2img, image_height(), image_width(), int(coords_dims_[1] / 3),
                                 int(coords_dims_[2]), int(coords_dims_[3]), config_.position_range);
  return {{"img", std::move(batch.images)}, {"coords", std::move(coords)}};
}

detect3d::FrameResult Detector::run(const detect3d::Scene& scene) const {
  detect3d::FrameResult result;
  result.scene = scene.folder;
  result.timestamp = scene.timestamp;
  auto start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> feeds = inputs(scene);
  result.preprocess_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> outputs = session_.run(feeds);
  result.inference_ms = ms_since(start);
  start = std::chrono::steady_clock::now();
  result.boxes = detect3d::decode_boxes(outputs.at("all_cls_scores"), outputs.at("all_bbox_preds"), config_);
  result.postprocess_ms = ms_since(start);
  return result;
}

}  // namespace nnc::petr
