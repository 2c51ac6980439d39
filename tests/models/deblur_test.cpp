// The deblurring pipeline (models/deblur.h) against PyTorch: each network on its own, one
// denoiser step, and the whole G + sampler chain for fixed seeds, with the noise drawn by
// numpy's implementation of the same counter-based generator (tests/data/golden/deblur,
// written by tools/reference/train_deblur.py with tools/reference/deblur_sampler.py).
#include <doctest/doctest.h>

#include <filesystem>

#include "core/compare.h"
#include "core/npy.h"
#include "models/deblur.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kGolden = fs::path(NNC_SOURCE_DIR) / "tests/data/golden/deblur";

// The golden crop is 48x64: one tile of exactly its size.
const deblur::Deblurrer& golden_deblurrer() {
  static const deblur::Deblurrer deblurrer(deblur::default_model_dir(), 48, 64);
  return deblurrer;
}

}  // namespace

TEST_CASE("deblur: the counter-based noise equals numpy's draw of the same counters") {
  const Tensor expected = read_npy(kGolden / "denoiser_z.npy");  // counter_normal(seed 11, stream 0)
  double max_abs = 0;
  for (int64_t k = 0; k < expected.numel(); ++k)
    max_abs = std::max(max_abs, std::abs(double(deblur::counter_normal(11, 0, uint64_t(k))) - expected.get_double(k)));
  CHECK(max_abs < 1e-6);
}

TEST_CASE("deblur: predictor G and one denoiser F step match PyTorch") {
  const deblur::Deblurrer& d = golden_deblurrer();
  const Tensor blurry = read_npy(kGolden / "blurry.npy");
  const Tensor sharp = Session(d.predictor()).run({{"blurry", blurry}}).begin()->second;
  const Difference g = compare(sharp, read_npy(kGolden / "predictor.npy"));
  INFO("G: rel L2 " << g.rel_l2 << ", max abs " << g.max_abs);
  CHECK(g.rel_l2 < 1e-4);

  Tensor level(DType::F32, {1});
  level.data<float>()[0] = 1.5f;
  const Tensor eps = Session(d.denoiser())
                         .run({{"residual_t", read_npy(kGolden / "denoiser_z.npy")}, {"blurry", blurry}, {"log_snr", level}})
                         .begin()
                         ->second;
  const Difference f = compare(eps, read_npy(kGolden / "denoiser_log_snr_1.5.npy"));
  INFO("F: rel L2 " << f.rel_l2 << ", max abs " << f.max_abs);
  CHECK(f.rel_l2 < 1e-4);
}

TEST_CASE("deblur: the whole G + sampler chain matches PyTorch's sampler fed the same noise") {
  const deblur::Deblurrer& d = golden_deblurrer();
  const Tensor blurry = read_npy(kGolden / "blurry.npy");
  struct Case {
    int steps;
    double eta;
    uint64_t seed;
    const char* file;
  };
  for (const Case& c : {Case{10, 0.0, 7, "chain_steps10_eta0_seed7.npy"}, Case{10, 1.0, 7, "chain_steps10_eta1_seed7.npy"},
                        Case{25, 0.5, 3, "chain_steps25_eta0.5_seed3.npy"}}) {
    deblur::SamplerOptions sampler;
    sampler.steps = c.steps;
    sampler.eta = c.eta;
    sampler.seed = c.seed;
    const Tensor out = d.run_tile(blurry, sampler, 48, 64, 0, 0);
    const Difference diff = compare(out, read_npy(kGolden / c.file));
    INFO(std::string(c.file) << ": rel L2 " << diff.rel_l2 << ", max abs " << diff.max_abs);
    CHECK(diff.rel_l2 < 1e-4);
  }
}

TEST_CASE("deblur: the same seed gives the same image; eta 1 with another seed gives another") {
  const deblur::Deblurrer& d = golden_deblurrer();
  Image image{64, 48, 3, std::vector<uint8_t>(64 * 48 * 3)};
  const Tensor blurry = read_npy(kGolden / "blurry.npy");  // planar [1,3,48,64] -> interleaved
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 48 * 64; ++i) image.pixels[size_t(i) * 3 + size_t(c)] = uint8_t(std::lround(blurry.get_double(c * 48 * 64 + i) * 255));
  deblur::SamplerOptions sampler;
  sampler.steps = 5;
  sampler.eta = 1.0;
  sampler.seed = 1;
  const Image a = d.run(image, sampler), b = d.run(image, sampler);
  CHECK(a.pixels == b.pixels);
  sampler.seed = 2;
  CHECK(d.run(image, sampler).pixels != a.pixels);
}

TEST_CASE("deblur: tiles blend into the whole-image result") {
  // Predictor only (deterministic): a 64x48 image as one tile vs. in 32x32 tiles (3x2 of them,
  // overlapping). Tiles see less context near their edges, so they agree closely, not exactly.
  const Tensor blurry = read_npy(kGolden / "blurry.npy");
  Image image{64, 48, 3, std::vector<uint8_t>(64 * 48 * 3)};
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 48 * 64; ++i) image.pixels[size_t(i) * 3 + size_t(c)] = uint8_t(std::lround(blurry.get_double(c * 48 * 64 + i) * 255));
  deblur::SamplerOptions sampler;
  sampler.predictor_only = true;
  deblur::StageTimes times;
  const Image whole = golden_deblurrer().run(image, sampler);
  const deblur::Deblurrer tiled(deblur::default_model_dir(), 32, 32);
  const Image pieces = tiled.run(image, sampler, &times);
  CHECK(times.tiles == 6);
  double sum = 0;
  for (size_t i = 0; i < whole.pixels.size(); ++i) sum += std::abs(int(whole.pixels[i]) - int(pieces.pixels[i]));
  const double mean_levels = sum / double(whole.pixels.size());
  INFO("mean difference " << mean_levels << " grey levels");
  CHECK(mean_levels < 3.0);
}
