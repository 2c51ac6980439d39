// models/deblur.h — "Deblurring via Stochastic Refinement" (Whang et al., CVPR 2022) on nnc.
//
// Two networks (tools/reference/models.py, trained by tools/reference/train_deblur.py):
//   predictor.onnx  G: blurry [1,3,H,W] in [0,1] -> a sharp estimate
//   denoiser.onnx   F: (residual_t, blurry, log_snr [1]) -> the noise in residual_t
// The output is clip(G(y) + r, 0, 1) where r, the detail G cannot recover, is sampled by F from
// pure noise in N steps (eta 0: deterministic DDIM; eta 1: DDPM-like, fresh noise every step).
// The sampler is the one in tools/reference/deblur_sampler.py, step for step, drawing the same
// counter-based noise, so a seed reproduces a result exactly in C++ and in PyTorch.
//
// Images of any size: padded (edge pixels repeated) to a multiple of 4; up to kTileSize on a
// side they run whole, larger ones in kTileSize tiles overlapping by kTileOverlap, blended with
// linear ramps. The noise of a pixel depends on its place in the whole image, not its tile.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <vector>

#include "core/api.h"
#include "models/image_io.h"

namespace nnc::deblur {

inline constexpr int kSizeMultiple = 4;    // the networks downsample twice
inline constexpr int kTileSize = 512;
inline constexpr int kTileOverlap = 32;
inline constexpr double kLogSnrMin = -4.0;   // the sampler's schedule: evenly spaced log-SNR
inline constexpr double kLogSnrMax = 14.0;   // (training drew from -6 to 14)

// The trained pair nnc bundles (models/deblur/ in the source tree).
std::filesystem::path default_model_dir();

// Standard normal number `index` of noise stream `stream` for `seed`: Box-Muller on two
// splitmix64 hashes of the counter (see deblur_sampler.py's counter_normal).
float counter_normal(uint64_t seed, uint64_t stream, uint64_t index);
// steps + 1 log-SNR levels from kLogSnrMin to kLogSnrMax.
std::vector<double> log_snr_schedule(int steps);

struct SamplerOptions {
  int steps = 10;        // denoiser evaluations (0 or predictor_only: G alone)
  double eta = 1.0;      // 0: DDIM, 1: DDPM-like
  uint64_t seed = 0;
  bool predictor_only = false;
};

struct StageTimes {
  double preprocess_ms = 0, predictor_ms = 0, sampler_ms = 0, postprocess_ms = 0;
  int tiles = 0;
  int denoiser_runs = 0;
};

// Called after each denoiser step: (steps done, steps in all, over every tile).
using Progress = std::function<void(int, int)>;

class Deblurrer {
 public:
  // Loads predictor.onnx and denoiser.onnx from `model_dir` (checking their inputs and outputs)
  // and compiles them for `tile_height` x `tile_width` (multiples of kSizeMultiple).
  Deblurrer(const std::filesystem::path& model_dir, int tile_height, int tile_width, LoadOptions options = {});

  // The tile shape an image of this size runs at.
  static std::pair<int, int> tile_shape(int height, int width);

  Image run(const Image& image, const SamplerOptions& sampler, StageTimes* times = nullptr,
            const Progress& progress = nullptr) const;
  // One tile: blurry [1,3,tile_h,tile_w] in [0,1]; noise indices are those of the tile's pixels
  // in a padded image of `image_height` x `image_width` at (top, left). Returns clip(G + r, 0, 1).
  Tensor run_tile(const Tensor& blurry, const SamplerOptions& sampler, int image_height, int image_width, int top,
                  int left, StageTimes* times = nullptr, const std::function<void()>& step_done = nullptr) const;

  const Model& predictor() const { return predictor_; }
  const Model& denoiser() const { return denoiser_; }

 private:
  Model predictor_, denoiser_;
  int tile_h_, tile_w_;
};

}  // namespace nnc::deblur
