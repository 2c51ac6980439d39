// tools/cli/deblur.cpp — `nnc deblur`: G's sharp estimate refined by the diffusion sampler.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "models/deblur.h"
#include "tools/cli/commands.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

// A bar redrawn in place on a terminal; a line per quarter otherwise (logs stay short).
deblur::Progress sampling_progress() {
  const bool terminal = isatty(fileno(stdout));
  return [terminal](int done, int total) {
    if (terminal) {
      const int width = 30, filled = done * width / total;
      fmt::print("\r  sampling [{}{}] {}/{} steps", std::string(size_t(filled), '#'), std::string(size_t(width - filled), '.'),
                 done, total);
      if (done == total) fmt::print("\r{:<60}\r", "");
    } else if (total >= 4 && done % ((total + 3) / 4) == 0) {
      fmt::print("  sampling: {}/{} steps\n", done, total);
    }
    std::fflush(stdout);
  };
}

uint64_t parse_seed(const Args& args) {
  if (!args.has("--seed")) return 0;
  const std::string text = args.get("--seed");
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != 0 || errno == ERANGE)
    usage_error("--seed expects a non-negative integer, got '{}'", text);
  return v;
}

}  // namespace

int cmd_deblur(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--predictor-only"}, kPipelineFlags),
                  with({"-o", "--steps", "--eta", "--seed", "--model-dir"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc deblur IMAGE -o OUT.png [--steps N] [--eta E] [--seed S] [--predictor-only]\n"
        "                  [--model-dir DIR]\n\n"
        "Deblurring via stochastic refinement: a predictor network G estimates the sharp image,\n"
        "then a diffusion denoiser F samples the detail G misses (the residual), starting from\n"
        "seeded noise. IMAGE is any size (PNG/JPEG/BMP; grayscale, RGBA and 16-bit read as RGB);\n"
        "large images run in {}-pixel tiles overlapping by {}.\n"
        "  -o OUT.png         the deblurred image (8-bit RGB PNG)\n"
        "  --steps N          denoiser steps, 1 to 500 (default 10)\n"
        "  --eta E            0 = DDIM (deterministic given the start noise), 1 = DDPM-like, fresh\n"
        "                     noise every step (default 1: the bundled denoiser's best, see README)\n"
        "  --seed S           the sampler's noise (default 0): the same seed gives the same image\n"
        "  --predictor-only   G alone, no sampling (the sharpest-looking-average, best PSNR)\n"
        "  --model-dir DIR    predictor.onnx and denoiser.onnx (default: the bundled pair,\n"
        "                     trained on synthetic blur: {})\n"
        "Tuning results are kept in $XDG_CACHE_HOME/nnc/timing-cache (or ~/.cache/nnc/) unless\n"
        "--timing-cache names another file.\n\n{}",
        deblur::kTileSize, deblur::kTileOverlap, deblur::default_model_dir().string(), kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1 || !args.has("-o"))
    usage_error("nnc deblur IMAGE -o OUT.png [--steps N] [--eta E] [--seed S] (see --help)");
  deblur::SamplerOptions sampler;
  sampler.steps = args.get_int("--steps", 10, 1, 500);
  sampler.eta = args.get_double("--eta", 1.0);
  if (!(sampler.eta >= 0.0 && sampler.eta <= 1.0)) usage_error("--eta expects a number from 0 to 1, got '{}'", args.get("--eta"));
  sampler.seed = parse_seed(args);
  sampler.predictor_only = args.flag("--predictor-only");
  const fs::path out_path = args.get("-o");
  check_output_path("-o", out_path);

  auto start = std::chrono::steady_clock::now();
  const fs::path image_path = args.positionals()[0];
  const Image image = read_image(image_path);
  const double decode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  fmt::print("image        {} ({}x{}), decoded in {:.1f} ms\n", image_path.string(), image.width, image.height, decode_ms);

  LoadOptions options = load_options(args);
  options.tuning.progress = tuning_progress();
  use_default_timing_cache(args, options);
  const fs::path model_dir = args.has("--model-dir") ? fs::path(args.get("--model-dir")) : deblur::default_model_dir();
  const auto [tile_h, tile_w] = deblur::Deblurrer::tile_shape(image.height, image.width);
  start = std::chrono::steady_clock::now();
  const deblur::Deblurrer deblurrer(model_dir, tile_h, tile_w, options);
  fmt::print("models       {} (predictor, denoiser at {}x{}), loaded in {:.2f} s\n", model_dir.string(), tile_w, tile_h,
             std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

  deblur::StageTimes times;
  const Image sharp = deblurrer.run(image, sampler, &times, sampling_progress());
  fmt::print("preprocess   {:8.1f} ms  (pad to a multiple of {}, {} tile{})\n", times.preprocess_ms, deblur::kSizeMultiple,
             times.tiles, times.tiles == 1 ? "" : "s");
  fmt::print("predictor    {:8.1f} ms  (G, {} threads)\n", times.predictor_ms, thread_count());
  if (times.denoiser_runs > 0)
    fmt::print("sampler      {:8.1f} ms  ({} steps, eta {:g}, seed {}: {:.1f} ms per step)\n", times.sampler_ms,
               sampler.steps, sampler.eta, sampler.seed, times.sampler_ms / times.denoiser_runs);
  fmt::print("postprocess  {:8.1f} ms  (blend tiles, crop, 8-bit)\n", times.postprocess_ms);
  write_png(out_path, sharp);
  fmt::print("wrote        {}\n", out_path.string());
  return 0;
}

}  // namespace nnc::cli
