// models/bevformer/bevformer.h — BEVFormer multi-camera 3D detection (Li et al., ECCV 2022) on
// the host side, frame after frame: images in; the camera projection of every BEV pillar; the
// previous frame's BEV aligned to the current ego pose (rotated by the yaw change, reference
// points shifted by the translation) and the CAN-bus motion vector; inference through the
// optimised, tuned graph; NMS-free decode; the new BEV kept as the next frame's history.
//
// The model convention (tools/reference/bevformer.py, train_detectors.py): inputs
//   img       [1, N, 3, H, W]   ImageNet-normalised RGB of the N cameras
//   can_bus   [1, 18]           [0:3] ego translation since the last frame (current ego frame),
//                               [3:7] quaternion (w, x, y, z) of the yaw change, [16] the yaw
//                               change in radians, [17] in degrees, the rest 0
//   prev_bev  [1, Hb·Wb, C]     the previous BEV, aligned; zeros on a sequence's first frame
//   hist_ref  [1, Hb·Wb, 2]     where each cell was in the previous (rotated) grid, in [0, 1]
//   ref_cam   [N, 1, Hb·Wb, Z, 2]  each cell's Z pillar points (heights (k + 0.25)/Z of the
//                               z range) in camera n, as (u/W, v/H), clamped to [-1, 2]
//   bev_mask  [N, 1, Hb·Wb, Z]  1 where that point is in front of camera n and inside its image
// and outputs bev_embed [1, Hb·Wb, C], all_cls_scores [L, 1, Q, C'], all_bbox_preds [L, 1, Q, 10]
// (centres normalised to the detection range). The BEV grid (square, Hb = Wb) covers pc_range:
// column -> x, row -> y, cell centres at (index + 0.5) / size.
#pragma once

#include <filesystem>
#include <optional>

#include "core/api.h"
#include "models/detect3d/detector.h"

namespace nnc::bevformer {

// The tiny BEVFormer nnc bundles, trained on generated drives (models/bevformer/bevformer_tiny.onnx).
std::filesystem::path default_model_path();

// What carries from one frame to the next.
struct History {
  Tensor bev;  // bev_embed of the previous frame; empty before the first
  detect3d::Mat4 ego_to_world = detect3d::identity4();
};

class Detector {
 public:
  explicit Detector(const std::filesystem::path& model_path, LoadOptions options = {});
  // The session keeps its arena between frames and refers to model_: a Detector stays put.
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // One frame; updates `history` (start with an empty one; `use_history` false runs every frame
  // as a sequence's first, to measure what the temporal state buys).
  detect3d::FrameResult run(const detect3d::Scene& scene, History& history, bool use_history = true) const;
  std::vector<detect3d::FrameResult> run_sequence(const std::vector<detect3d::Scene>& frames, bool use_history = true) const;

  // The graph inputs for a frame given its history (what run feeds the model).
  std::map<std::string, Tensor> inputs(const detect3d::Scene& scene, const History& history) const;

  const Model& model() const { return model_; }
  const detect3d::DetectorConfig& config() const { return config_; }
  detect3d::DetectorConfig& config() { return config_; }
  int cameras() const { return int(img_dims_[1]); }
  int image_width() const { return int(img_dims_[4]); }
  int image_height() const { return int(img_dims_[3]); }
  int bev_size() const { return bev_size_; }

 private:
  Model model_;
  Session session_{model_};  // one arena for every frame (a fresh one would fault its pages in)
  detect3d::DetectorConfig config_;
  Dims img_dims_, prev_bev_dims_, ref_cam_dims_;
  int bev_size_ = 0;
};

// The host computations, exposed for tests against tools/reference/synthetic_scenes.py.
// ref_cam [N,1,Q,Z,2] and bev_mask [N,1,Q,Z] for the cameras' lidar2img (image W x H).
std::pair<Tensor, Tensor> pillar_projection(const std::vector<detect3d::Mat4>& lidar2img, int bev_size, int heights,
                                            int image_w, int image_h, const std::array<double, 6>& pc_range);
// The previous BEV [1,Q,C] rotated by the yaw change (bilinear, zeros outside) and hist_ref [1,Q,2].
std::pair<Tensor, Tensor> align_history(const Tensor& prev_bev, int bev_size, const detect3d::Vec3& shift, double dyaw,
                                        const std::array<double, 6>& pc_range);
// (translation since the previous pose, in the current ego frame; yaw change) of two ego poses.
std::pair<detect3d::Vec3, double> ego_motion(const detect3d::Mat4& previous, const detect3d::Mat4& current);
Tensor can_bus(const detect3d::Vec3& shift, double dyaw);

}  // namespace nnc::bevformer
