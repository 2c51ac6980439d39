// models/pipeline_common.h — what the model pipelines share: ImageNet's normalisation (U2Net and
// the 3D detectors take RGB/255 minus this mean over this std) and the wall time of a stage.
#pragma once

#include <array>
#include <chrono>

namespace nnc {

inline constexpr std::array<float, 3> kImageNetMean{0.485f, 0.456f, 0.406f};
inline constexpr std::array<float, 3> kImageNetStd{0.229f, 0.224f, 0.225f};

// Milliseconds since `start`.
inline double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace nnc
