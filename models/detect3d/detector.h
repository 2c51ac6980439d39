// models/detect3d/detector.h — what PETR and BEVFormer share on the host: the model's
// conventions (classes, coordinate ranges), camera images into one tensor with their lidar2img
// matrices, the NMS-free decode of the last decoder layer, and boxes as JSON.
//
// A detector export describes itself in ONNX metadata_props (tools/reference/train_detectors.py
// writes them); a model without them gets the defaults below, which are the tiny detectors'.
//   nnc.classes          "car,truck,pedestrian"        one name per score column
//   nnc.pc_range         "-51.2,-51.2,-5,51.2,51.2,3"  x0,y0,z0,x1,y1,z1 of the detection range (m)
//   nnc.box_centres      "metres" | "normalized"       normalized: centres are in [0,1] of pc_range
//   nnc.position_range   "-61.2,-61.2,-10,61.2,61.2,10"  PETR's frustum normalisation
#pragma once

#include <array>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/api.h"
#include "models/detect3d/scene.h"
#include "models/pipeline_common.h"

namespace nnc::detect3d {

struct DetectorConfig {
  std::vector<std::string> classes{"car", "truck", "pedestrian"};
  std::array<double, 6> pc_range{-51.2, -51.2, -5.0, 51.2, 51.2, 3.0};
  bool centres_normalized = false;
  std::array<double, 6> position_range{-61.2, -61.2, -10.0, 61.2, 61.2, 10.0};
  float score_threshold = 0.3f;
  int max_boxes = 300;  // the top-k of the NMS-free decode
};

// The defaults overridden by the model's metadata (ONNX files; plans keep the defaults).
// `pc_range_default` is the detector's own (BEVFormer-tiny's grid differs from PETR's range).
DetectorConfig read_detector_config(const std::filesystem::path& model_path, const std::array<double, 6>& pc_range_default,
                                    bool centres_normalized_default);

// A model input the pipeline fills: its name and its dims, which must be fully known.
Dims input_dims(const Graph& g, const std::string& name, size_t rank, const std::string& model_what);
// The camera input 'img' [1, N, 3, H, W], checked.
Dims camera_input_dims(const Graph& g, const std::string& model_what);
// A detector model (ONNX or plan) loaded with `options`; a missing file is a BadInput error.
Model load_detector(const std::filesystem::path& path, const LoadOptions& options);
// Throws BadInput unless every one of `names` is among the model's outputs.
void require_outputs(const Model& model, const std::vector<std::string>& names, const std::string& model_what);

// The cameras of a scene as the image input [1, N, 3, H, W] (ImageNet mean/std on RGB/255,
// each image resized to W x H) and each camera's lidar2img with the resize folded into its
// intrinsics. Errors name the camera.
struct CameraBatch {
  Tensor images;
  std::vector<Mat4> lidar2img;
};
CameraBatch prepare_cameras(const Scene& scene, int width, int height);

// The NMS-free decode: sigmoid of the last layer's scores [L, 1, Q, C], the top max_boxes of all
// Q·C (query, class) pairs, those at or over the threshold, boxes from [L, 1, Q, 10] =
// (cx, cy, log w, log l, cz, log h, sin yaw, cos yaw, vx, vy); centres outside pc_range grown by
// 10 m horizontally and 5 m vertically are dropped, as are non-finite boxes (counted in
// `dropped`).
std::vector<Box3D> decode_boxes(const Tensor& all_scores, const Tensor& all_boxes, const DetectorConfig& config,
                                size_t* dropped = nullptr);

struct FrameResult {
  std::filesystem::path scene;
  double timestamp = 0;
  std::vector<Box3D> boxes;  // best first
  double preprocess_ms = 0, inference_ms = 0, postprocess_ms = 0;
};

// {"model": ..., "classes": [...], "frames": [{"scene", "timestamp", "boxes": [{"class", "label",
// "score", "center", "size", "yaw", "velocity"}]}]}
std::string boxes_json(const std::string& model, const DetectorConfig& config, const std::vector<FrameResult>& frames);

// The top-down picture: ego, camera frusta, predicted boxes (class colours, heading tick,
// velocity arrow) and ground truth (white outlines) when the scene has it; x forward is up.
Image draw_bev(const Scene& scene, const std::vector<Box3D>& predictions, double range_m, int size_px = 640);

}  // namespace nnc::detect3d
