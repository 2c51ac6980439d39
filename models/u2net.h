// models/u2net.h — salient-object masks with any U2Net-convention ONNX model (Qin et al. 2020).
//
// The convention, shared by the widely used u2net.onnx / u2netp.onnx files and nnc's own
// export: one f32 input [1, 3, H, W] (ImageNet-normalised RGB; H and W may be symbolic, then
// 320 is used), and one or more outputs whose first is the fused saliency map [1, 1, H, W]
// (after its sigmoid). The pipeline: any-size image -> resize to the model's input size ->
// (x/255 - mean) / std -> inference on the optimised, tuned graph -> min-max normalised fused
// map -> resized back to the image's size -> grayscale mask and RGBA cut-out.
//
//   nnc::u2net::SalientObjectDetector detector("models/u2net/u2netp.onnx");
//   nnc::u2net::Result r = detector.run(nnc::read_image("photo.png"));
//   nnc::write_png("mask.png", r.mask);
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/api.h"
#include "models/image_io.h"

namespace nnc::u2net {

// The trained U2NETP nnc bundles (models/u2net/u2netp.onnx in the source tree).
std::filesystem::path default_model_path();

// Wall time of each stage, for the command line's report.
struct StageTimes {
  double preprocess_ms = 0, inference_ms = 0, postprocess_ms = 0;
};

struct Result {
  Image mask;    // 1 channel, the input image's size: 255 = salient
  Image cutout;  // 4 channels (RGBA): the input image with the mask as alpha
  StageTimes times;
};

class SalientObjectDetector {
 public:
  // Loads and checks the model (ONNX or .nncplan), then optimises and tunes it with `options`
  // (input_shapes is filled in here). Throws BadInput naming what breaks the convention.
  explicit SalientObjectDetector(const std::filesystem::path& model_path, LoadOptions options = {});

  Result run(const Image& image) const;

  const Model& model() const { return model_; }
  int input_width() const { return width_; }
  int input_height() const { return height_; }

 private:
  Model model_;
  int width_ = 0, height_ = 0;
};

}  // namespace nnc::u2net
