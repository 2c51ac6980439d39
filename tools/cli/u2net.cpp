// tools/cli/u2net.cpp — `nnc u2net`: a salient-object mask (and cut-out) for one image.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "models/u2net.h"
#include "tools/cli/commands.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

fs::path default_timing_cache() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "nnc/timing-cache";
  if (const char* home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache/nnc/timing-cache";
  return {};
}

}  // namespace

void use_default_timing_cache(const Args& args, LoadOptions& options) {
  if (args.has("--timing-cache") || args.flag("--no-tune")) return;
  const fs::path cache = default_timing_cache();
  if (cache.empty()) return;
  std::error_code ec;
  fs::create_directories(cache.parent_path(), ec);
  if (!ec) options.tuning.cache_file = cache;  // else no cache: tune every time
}

void check_output_path(const std::string& option, const fs::path& path) {
  const fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  if (!fs::is_directory(dir)) bad_input("{} {}: directory {} does not exist", option, path.string(), dir.string());
}

int cmd_u2net(const std::vector<std::string>& argv) {
  const Args args(argv, kPipelineFlags, with({"--mask", "--cutout", "--model"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc u2net IMAGE --mask OUT.png [--cutout OUT.png] [--model FILE.onnx|FILE.nncplan]\n\n"
        "Salient-object detection with U2Net: IMAGE (PNG/JPEG/BMP, any size; grayscale, RGBA and\n"
        "16-bit are read as 8-bit RGB) is resized to the model's input size, ImageNet-normalised,\n"
        "run through the optimised and tuned model, and its fused map (the first output) is\n"
        "min-max normalised and resized back to the image's size.\n"
        "  --mask OUT.png     the mask, 8-bit grayscale (255 = salient)\n"
        "  --cutout OUT.png   the image with the mask as its alpha channel (RGBA)\n"
        "  --model FILE       any U2Net-convention model: one input [1,3,H,W] (symbolic H, W run at\n"
        "                     320), first output the fused map (default: the bundled U2NETP,\n"
        "                     trained on generated images: {})\n"
        "Tuning results are kept in $XDG_CACHE_HOME/nnc/timing-cache (or ~/.cache/nnc/) unless\n"
        "--timing-cache names another file, so only the first run pays for tuning.\n\n{}",
        u2net::default_model_path().string(), kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1 || !args.has("--mask"))
    usage_error("nnc u2net IMAGE --mask OUT.png [--cutout OUT.png] [--model FILE] (see --help)");
  const fs::path image_path = args.positionals()[0];
  const fs::path mask_path = args.get("--mask"), cutout_path = args.get("--cutout");
  check_output_path("--mask", mask_path);
  if (!cutout_path.empty()) check_output_path("--cutout", cutout_path);

  // The image first: a bad file is reported before seconds of optimising and tuning.
  auto start = std::chrono::steady_clock::now();
  const Image image = read_image(image_path);
  const double decode_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  LoadOptions options = load_options(args);
  options.tuning.progress = tuning_progress();
  use_default_timing_cache(args, options);
  const fs::path model_path = args.has("--model") ? fs::path(args.get("--model")) : u2net::default_model_path();
  start = std::chrono::steady_clock::now();
  const u2net::SalientObjectDetector detector(model_path, options);
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  print_tuning_summary(detector.model(), false);
  fmt::print("model        {} (input {}x{}, fused map '{}'), loaded in {:.2f} s\n", model_path.string(),
             detector.input_width(), detector.input_height(), detector.model().output_names().front(), load_s);
  fmt::print("image        {} ({}x{}), decoded in {:.1f} ms\n", image_path.string(), image.width, image.height, decode_ms);

  const u2net::Result result = detector.run(image);
  fmt::print("preprocess   {:8.1f} ms  (resize to {}x{}, ImageNet normalisation)\n", result.times.preprocess_ms,
             detector.input_width(), detector.input_height());
  fmt::print("inference    {:8.1f} ms  ({} threads{})\n", result.times.inference_ms, thread_count(),
             detector.model().kernels().empty() ? ", reference kernels" : "");
  fmt::print("postprocess  {:8.1f} ms  (min-max normalisation, resize to {}x{}, cut-out)\n",
             result.times.postprocess_ms, image.width, image.height);
  write_png(mask_path, result.mask);
  fmt::print("wrote mask   {}\n", mask_path.string());
  if (!cutout_path.empty()) {
    write_png(cutout_path, result.cutout);
    fmt::print("wrote cutout {}\n", cutout_path.string());
  }
  return 0;
}

}  // namespace nnc::cli
