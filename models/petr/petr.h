// models/petr/petr.h — PETR multi-camera 3D detection (Liu et al., ECCV 2022) on the host side:
// images in, the frustum of every feature cell lifted to the ego frame with each camera's
// inverse lidar2img (matrix inversion stays here, out of the graph), inference through the
// optimised, tuned graph, NMS-free decode, boxes out.
//
// The model convention (tools/reference/petr.py, train_detectors.py): inputs
//   img    [1, N, 3, H, W]        ImageNet-normalised RGB of the N cameras
//   coords [N, 3·D, Hf, Wf]       inverse_sigmoid of the normalised ego-frame points of cell
//                                 (i, j) at depth bin k: pixel (j·W/Wf, i·H/Hf), depth
//                                 d_k = 1 + 60.2/(D(D+1))·k(k+1); channel k·3 + axis
// and outputs all_cls_scores [L, 1, Q, C] (logits), all_bbox_preds [L, 1, Q, 10].
//
//   nnc::petr::Detector petr("models/petr/petr_tiny.onnx");
//   nnc::detect3d::FrameResult r = petr.run(nnc::detect3d::load_scene("scene_folder"));
#pragma once

#include <filesystem>

#include "core/api.h"
#include "models/detect3d/detector.h"

namespace nnc::petr {

// The tiny PETR nnc bundles, trained on generated scenes (models/petr/petr_tiny.onnx).
std::filesystem::path default_model_path();

// The `coords` input for cameras with these lidar2img matrices: [N, 3·depths, feat_h, feat_w].
Tensor frustum_coords(const std::vector<detect3d::Mat4>& lidar2img, int image_h, int image_w, int depths, int feat_h,
                      int feat_w, const std::array<double, 6>& position_range);

class Detector {
 public:
  explicit Detector(const std::filesystem::path& model_path, LoadOptions options = {});
  // The session keeps its arena between frames and refers to model_: a Detector stays put.
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;
  detect3d::FrameResult run(const detect3d::Scene& scene) const;

  // The graph inputs for a scene (what run feeds the model), for tests and `nnc compare`.
  std::map<std::string, Tensor> inputs(const detect3d::Scene& scene) const;

  const Model& model() const { return model_; }
  const detect3d::DetectorConfig& config() const { return config_; }
  detect3d::DetectorConfig& config() { return config_; }
  int cameras() const { return int(img_dims_[1]); }
  int image_width() const { return int(img_dims_[4]); }
  int image_height() const { return int(img_dims_[3]); }

 private:
  Model model_;
  Session session_{model_};  // one arena for every frame (a fresh one would fault its pages in)
  detect3d::DetectorConfig config_;
  Dims img_dims_, coords_dims_;
};

}  // namespace nnc::petr
