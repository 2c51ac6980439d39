#include "models/deblur.h"

#include <chrono>
#include <cmath>

#include "models/pipeline_common.h"

namespace nnc::deblur {
namespace fs = std::filesystem;
namespace {

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int round_up(int v, int multiple) { return (v + multiple - 1) / multiple * multiple; }

// Checks that `model` has exactly the named inputs and one output.
void check_interface(const Model& model, const fs::path& path, const std::vector<std::string>& inputs) {
  std::vector<std::string> have = model.input_names();
  std::vector<std::string> want = inputs;
  std::sort(have.begin(), have.end());
  std::sort(want.begin(), want.end());
  if (have != want || model.output_names().size() != 1) {
    std::string expected;
    for (const std::string& n : inputs) expected += (expected.empty() ? "" : ", ") + n;
    bad_input("{}: expected inputs ({}) and one output; see models/deblur.h", path.string(), expected);
  }
}

Model load_network(const fs::path& path, const std::map<std::string, Dims>& shapes, LoadOptions options) {
  if (!fs::exists(path)) bad_input("{}: no such model file", path.string());
  options.input_shapes = shapes;
  return load_model(path, options);
}

// Tiles narrower than twice kTileOverlap (only in tests) overlap by half their length.
int overlap_for(int tile) { return std::min(kTileOverlap, tile / 2); }

// Tile starts along one axis of `size` padded pixels: every tile is `tile` long, neighbours
// overlap by at least overlap_for(tile), the last one ends at the border.
std::vector<int> tile_starts(int size, int tile) {
  if (size <= tile) return {0};
  std::vector<int> starts;
  for (int s = 0; s + tile < size; s += tile - overlap_for(tile)) starts.push_back(s);
  starts.push_back(size - tile);
  return starts;
}

// Blend weight of position i in a tile of length n: a linear ramp over the overlap on every
// side that has a neighbour, 1 elsewhere.
float ramp(int i, int n, bool has_before, bool has_after) {
  const float overlap = float(overlap_for(n));
  float w = 1.0f;
  if (has_before) w = std::min(w, float(i + 1) / (overlap + 1));
  if (has_after) w = std::min(w, float(n - i) / (overlap + 1));
  return w;
}

}  // namespace

fs::path default_model_dir() { return fs::path(NNC_SOURCE_DIR) / "models/deblur"; }

float counter_normal(uint64_t seed, uint64_t stream, uint64_t index) {
  const uint64_t key = seed * 0x9E3779B97F4A7C15ull + stream * 0xD1B54A32D192ED69ull + index;
  const uint64_t h1 = splitmix64(key * 2), h2 = splitmix64(key * 2 + 1);
  const double u1 = (double(h1 >> 11) + 1.0) * 0x1p-53;  // (0, 1]: log is finite
  const double u2 = double(h2 >> 11) * 0x1p-53;
  return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
}

std::vector<double> log_snr_schedule(int steps) {
  std::vector<double> levels(size_t(steps) + 1);
  for (int i = 0; i <= steps; ++i) levels[size_t(i)] = kLogSnrMin + (kLogSnrMax - kLogSnrMin) * i / steps;
  return levels;
}

std::pair<int, int> Deblurrer::tile_shape(int height, int width) {
  return {std::min(round_up(height, kSizeMultiple), kTileSize), std::min(round_up(width, kSizeMultiple), kTileSize)};
}

Deblurrer::Deblurrer(const fs::path& model_dir, int tile_height, int tile_width, LoadOptions options)
    : predictor_(load_network(model_dir / "predictor.onnx", {{"blurry", {1, 3, tile_height, tile_width}}}, options)),
      denoiser_(load_network(model_dir / "denoiser.onnx",
                             {{"residual_t", {1, 3, tile_height, tile_width}},
                              {"blurry", {1, 3, tile_height, tile_width}},
                              {"log_snr", {1}}},
                             options)),
      tile_h_(tile_height),
      tile_w_(tile_width) {
  if (tile_height % kSizeMultiple || tile_width % kSizeMultiple)
    bad_input("deblur: tile {}x{} is not a multiple of {}", tile_width, tile_height, kSizeMultiple);
  check_interface(predictor_, model_dir / "predictor.onnx", {"blurry"});
  check_interface(denoiser_, model_dir / "denoiser.onnx", {"residual_t", "blurry", "log_snr"});
}

Tensor Deblurrer::run_tile(const Tensor& blurry, const SamplerOptions& sampler, int image_height, int image_width,
                           int top, int left, StageTimes* times, const std::function<void()>& step_done) const {
  auto start = std::chrono::steady_clock::now();
  Tensor out = Session(predictor_).run({{"blurry", blurry}}).begin()->second;
  if (times) times->predictor_ms += ms_since(start);
  const int64_t n = out.numel();
  float* result = out.data<float>();
  if (sampler.predictor_only || sampler.steps <= 0) {
    for (int64_t i = 0; i < n; ++i) result[i] = std::clamp(result[i], 0.0f, 1.0f);
    return out;
  }

  start = std::chrono::steady_clock::now();
  // The noise of tile element (c, y, x) is element c*H*W + (top+y)*W + (left+x) of the image's.
  const int64_t h = blurry.dims()[2], w = blurry.dims()[3];
  auto fill_noise = [&](uint64_t stream, std::vector<float>& noise) {
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
          noise[size_t((c * h + y) * w + x)] = counter_normal(
              sampler.seed, stream, uint64_t((c * image_height + top + y) * image_width + left + x));
  };
  Tensor z(DType::F32, {1, 3, h, w});
  std::vector<float> noise(static_cast<size_t>(n)), residual(static_cast<size_t>(n));
  fill_noise(0, noise);
  std::copy(noise.begin(), noise.end(), z.data<float>());
  const std::vector<double> levels = log_snr_schedule(sampler.steps);
  const Session denoise(denoiser_);
  for (int i = 0; i < sampler.steps; ++i) {
    const double t = levels[size_t(i)], s = levels[size_t(i) + 1];
    const double g_t = 1.0 / (1.0 + std::exp(-t)), g_s = 1.0 / (1.0 + std::exp(-s));
    Tensor level(DType::F32, {1});
    level.data<float>()[0] = float(t);
    const Tensor eps = denoise.run({{"residual_t", z}, {"blurry", blurry}, {"log_snr", level}}).begin()->second;
    if (times) ++times->denoiser_runs;
    const float* e = eps.data<float>();
    float* zt = z.data<float>();
    const float a = float(std::sqrt(1 - g_t)), b = float(std::sqrt(g_t));
    for (int64_t k = 0; k < n; ++k) residual[size_t(k)] = std::clamp((zt[k] - a * e[k]) / b, -1.0f, 1.0f);
    if (step_done) step_done();
    if (i == sampler.steps - 1) break;
    const double sigma = sampler.eta * std::sqrt((1 - g_s) / (1 - g_t)) * std::sqrt(1 - g_t / g_s);
    const float keep = float(std::sqrt(g_s)), direction = float(std::sqrt(std::max(1 - g_s - sigma * sigma, 0.0)));
    if (sigma > 0) fill_noise(uint64_t(i) + 1, noise);
    for (int64_t k = 0; k < n; ++k) {
      const float r0 = residual[size_t(k)];
      const float eps_clipped = (zt[k] - b * r0) / a;  // the noise consistent with the clipped r0
      zt[k] = keep * r0 + direction * eps_clipped + (sigma > 0 ? float(sigma) * noise[size_t(k)] : 0.0f);
    }
  }
  for (int64_t k = 0; k < n; ++k) result[k] = std::clamp(result[k] + residual[size_t(k)], 0.0f, 1.0f);
  if (times) times->sampler_ms += ms_since(start);
  return out;
}

Image Deblurrer::run(const Image& image, const SamplerOptions& sampler, StageTimes* times,
                     const Progress& progress) const {
  if (image.channels != 3 || image.width < 1 || image.height < 1) bad_input("deblur: expects an RGB image");
  auto start = std::chrono::steady_clock::now();
  // Padded to a multiple of kSizeMultiple, and at least to one tile.
  const int ph = std::max(round_up(image.height, kSizeMultiple), tile_h_);
  const int pw = std::max(round_up(image.width, kSizeMultiple), tile_w_);
  // Planar [3, ph, pw] in [0,1], edge pixels repeated into the padding.
  std::vector<float> padded(size_t(3) * size_t(ph) * size_t(pw));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < ph; ++y)
      for (int x = 0; x < pw; ++x) {
        const int sy = std::min(y, image.height - 1), sx = std::min(x, image.width - 1);
        padded[(size_t(c) * size_t(ph) + size_t(y)) * size_t(pw) + size_t(x)] =
            float(image.pixels[(size_t(sy) * size_t(image.width) + size_t(sx)) * 3 + size_t(c)]) / 255.0f;
      }
  const std::vector<int> rows = tile_starts(ph, tile_h_), cols = tile_starts(pw, tile_w_);
  std::vector<float> sum(padded.size(), 0.0f), weight(size_t(ph) * size_t(pw), 0.0f);
  if (times) {
    times->tiles = int(rows.size() * cols.size());
    times->preprocess_ms += ms_since(start);
  }
  const int steps_per_tile = sampler.predictor_only ? 0 : std::max(sampler.steps, 0);
  const int total_steps = steps_per_tile * int(rows.size() * cols.size());
  int done = 0;
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t q = 0; q < cols.size(); ++q) {
      const int top = rows[r], left = cols[q];
      Tensor tile(DType::F32, {1, 3, tile_h_, tile_w_});
      float* t = tile.data<float>();
      for (int c = 0; c < 3; ++c)
        for (int y = 0; y < tile_h_; ++y)
          std::copy_n(&padded[(size_t(c) * size_t(ph) + size_t(top + y)) * size_t(pw) + size_t(left)], tile_w_,
                      t + (size_t(c) * size_t(tile_h_) + size_t(y)) * size_t(tile_w_));
      const Tensor sharp = run_tile(tile, sampler, ph, pw, top, left, times, [&] {
        if (progress) progress(++done, total_steps);
      });
      const float* s = sharp.data<float>();
      for (int y = 0; y < tile_h_; ++y) {
        const float wy = ramp(y, tile_h_, r > 0, r + 1 < rows.size());
        for (int x = 0; x < tile_w_; ++x) {
          const float wgt = wy * ramp(x, tile_w_, q > 0, q + 1 < cols.size());
          const size_t pixel = size_t(top + y) * size_t(pw) + size_t(left + x);
          weight[pixel] += wgt;
          for (int c = 0; c < 3; ++c)
            sum[size_t(c) * size_t(ph) * size_t(pw) + pixel] += wgt * s[(size_t(c) * size_t(tile_h_) + size_t(y)) * size_t(tile_w_) + size_t(x)];
        }
      }
    }

  start = std::chrono::steady_clock::now();
  Image out{image.width, image.height, 3, std::vector<uint8_t>(size_t(image.width) * size_t(image.height) * 3)};
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      const size_t pixel = size_t(y) * size_t(pw) + size_t(x);
      for (int c = 0; c < 3; ++c) {
        const float v = sum[size_t(c) * size_t(ph) * size_t(pw) + pixel] / weight[pixel];
        out.pixels[(size_t(y) * size_t(image.width) + size_t(x)) * 3 + size_t(c)] = uint8_t(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
      }
    }
  if (times) times->postprocess_ms += ms_since(start);
  return out;
}

}  // namespace nnc::deblur
