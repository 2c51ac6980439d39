// tools/cli/detect3d.cpp — `nnc petr` and `nnc bevformer`: multi-camera 3D boxes for a scene or
// a sequence of scenes (BEVFormer carrying its state across them), as JSON and optionally
// top-down pictures.
#include <chrono>
#include <cmath>
#include <fstream>

#include <fmt/ranges.h>

#include "models/bevformer/bevformer.h"
#include "models/petr/petr.h"
#include "tools/cli/commands.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

const char* const kSceneHelp =
    "A scene is a folder with scene.json (per camera: name, image file, 3x3 intrinsics, 4x4\n"
    "sensor_to_ego; the 4x4 ego_to_world pose and timestamp; optional ground-truth boxes) and\n"
    "the images it names; README \"3D detection\" documents the format.\n";

const char* const kOutputHelp =
    "  --boxes OUT.json        boxes in the ego frame: class, score, center (m), size (w, l, h),\n"
    "                          yaw (rad), velocity (m/s); one entry per frame\n"
    "  --bev OUT.png           top-down picture: ego, camera frusta, predictions (class colours),\n"
    "                          ground truth (white) when the scene has it; for a sequence the\n"
    "                          last frame\n"
    "  --bev-all               also OUT-000.png, OUT-001.png, ... for every frame of a sequence\n"
    "  --score-threshold T     keep boxes scoring at least T (default 0.3)\n"
    "  --model FILE            the detector (ONNX or .nncplan; default: the bundled tiny model)\n";

struct Common {
  fs::path scene, boxes, bev, model;
  LoadOptions options;
  float threshold = 0.3f;
};

Common parse_common(const Args& args, const char* command, const fs::path& default_model) {
  if (args.positionals().size() != 1 || !args.has("--boxes"))
    usage_error("nnc {} SCENE --boxes OUT.json [--bev OUT.png] [--model FILE] (see --help)", command);
  Common c;
  c.scene = args.positionals()[0];
  c.boxes = args.get("--boxes");
  c.bev = args.get("--bev");
  check_output_path("--boxes", c.boxes);
  if (!c.bev.empty()) check_output_path("--bev", c.bev);
  c.threshold = float(args.get_double("--score-threshold", 0.3));
  if (!(c.threshold >= 0 && c.threshold <= 1)) usage_error("--score-threshold expects a number from 0 to 1, got '{}'", args.get("--score-threshold"));
  c.model = args.has("--model") ? fs::path(args.get("--model")) : default_model;
  c.options = load_options(args);
  c.options.tuning.progress = tuning_progress();
  use_default_timing_cache(args, c.options);
  return c;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) fail(ErrorKind::Runtime, "{}: cannot write", path.string());
}

void print_frame(const detect3d::FrameResult& r, size_t index, size_t count) {
  fmt::print("frame {:>3}/{}  {}  {} boxes  (preprocess {:.1f} ms, inference {:.1f} ms, decode {:.1f} ms)\n", index + 1,
             count, r.scene.filename().string(), r.boxes.size(), r.preprocess_ms, r.inference_ms, r.postprocess_ms);
  for (size_t i = 0; i < std::min<size_t>(r.boxes.size(), 5); ++i) {
    const detect3d::Box3D& b = r.boxes[i];
    fmt::print("    {:<12} {:.2f}  at ({:6.1f}, {:6.1f}, {:5.1f}) m  size {:.1f}x{:.1f}x{:.1f}  yaw {:5.2f}  v ({:4.1f}, {:4.1f})\n",
               b.class_name, b.score, b.center[0], b.center[1], b.center[2], b.size[0], b.size[1], b.size[2], b.yaw,
               b.velocity[0], b.velocity[1]);
  }
  if (r.boxes.size() > 5) fmt::print("    ... {} more in the JSON\n", r.boxes.size() - 5);
}

fs::path numbered(const fs::path& path, size_t index) {
  return path.parent_path() / fmt::format("{}-{:03}{}", path.stem().string(), index, path.extension().string());
}

// Half the picture's width in metres: what the boxes need (ground truth and predictions, 5 m to
// spare, whole 10 m rings, at least 20 m), never more than the detection range.
double bev_range(const detect3d::DetectorConfig& config, const detect3d::Scene& scene,
                 const std::vector<detect3d::Box3D>& predictions) {
  const double limit = std::max({std::abs(config.pc_range[0]), std::abs(config.pc_range[1]), config.pc_range[3],
                                 config.pc_range[4]});
  double extent = 15;
  for (const auto* boxes : {&scene.ground_truth, &predictions})
    for (const detect3d::Box3D& b : *boxes) extent = std::max({extent, std::abs(b.center[0]), std::abs(b.center[1])});
  return std::min(limit, std::ceil((extent + 5) / 10) * 10);
}

// Writes the JSON and the pictures: --bev shows the last frame, --bev-all every frame as OUT-NNN.png.
void finish(const Common& c, const Args& args, const detect3d::DetectorConfig& config,
            const std::vector<detect3d::Scene>& frames, const std::vector<detect3d::FrameResult>& results) {
  write_text(c.boxes, detect3d::boxes_json(c.model.string(), config, results));
  fmt::print("wrote boxes  {} ({} frame{})\n", c.boxes.string(), results.size(), results.size() == 1 ? "" : "s");
  if (c.bev.empty()) return;
  if (args.flag("--bev-all"))
    for (size_t i = 0; i < frames.size(); ++i) write_png(numbered(c.bev, i), detect3d::draw_bev(frames[i], results[i].boxes, bev_range(config, frames[i], results[i].boxes)));
  write_png(c.bev, detect3d::draw_bev(frames.back(), results.back().boxes, bev_range(config, frames.back(), results.back().boxes)));
  fmt::print("wrote bev    {}{}\n", c.bev.string(), args.flag("--bev-all") ? " (and one per frame)" : "");
}

}  // namespace

int cmd_petr(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--bev-all"}, kPipelineFlags),
                  with({"--boxes", "--bev", "--model", "--score-threshold"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc petr SCENE_OR_SEQUENCE --boxes OUT.json [--bev OUT.png] [--bev-all]\n"
        "                [--score-threshold T] [--model FILE]\n\n"
        "PETR 3D detection on a multi-camera scene (or each frame of a sequence, independently):\n"
        "the camera images are resized to the model's input size and ImageNet-normalised; each\n"
        "camera's lidar2img is built and inverted on the host to lift the frustum of every feature\n"
        "cell into the ego frame (the 3D position embedding's input); the optimised, tuned model\n"
        "runs; its last decoder layer is decoded NMS-free (sigmoid, top 300, threshold).\n{}\n{}"
        "  (default model {})\n\n{}",
        kSceneHelp, kOutputHelp, petr::default_model_path().string(), kPipelineHelp);
    return 0;
  }
  const Common c = parse_common(args, "petr", petr::default_model_path());
  const std::vector<detect3d::Scene> frames = detect3d::load_sequence(c.scene);  // bad scenes fail before slow work
  auto start = std::chrono::steady_clock::now();
  petr::Detector detector(c.model, c.options);
  detector.config().score_threshold = c.threshold;
  print_tuning_summary(detector.model(), false);
  fmt::print("model        {} (PETR, {} cameras at {}x{}, classes {}), loaded in {:.2f} s\n", c.model.string(),
             detector.cameras(), detector.image_width(), detector.image_height(), fmt::join(detector.config().classes, ","),
             ms_since(start) / 1000);
  std::vector<detect3d::FrameResult> results;
  for (size_t i = 0; i < frames.size(); ++i) {
    results.push_back(detector.run(frames[i]));
    print_frame(results.back(), i, frames.size());
  }
  finish(c, args, detector.config(), frames, results);
  return 0;
}

int cmd_bevformer(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--no-history", "--bev-all"}, kPipelineFlags),
                  with({"--boxes", "--bev", "--model", "--score-threshold"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc bevformer SCENE_OR_SEQUENCE --boxes OUT.json [--bev OUT.png] [--bev-all]\n"
        "                     [--score-threshold T] [--no-history] [--model FILE]\n\n"
        "BEVFormer 3D detection on a scene, or on a sequence (a folder of scene folders, run in\n"
        "name order): per frame, the BEV pillars are projected into every camera on the host, the\n"
        "previous frame's BEV is rotated by the ego's yaw change and its reference points shifted by\n"
        "the ego's translation (from the two frames' ego_to_world poses), the optimised, tuned model\n"
        "runs, its boxes are decoded NMS-free, and its BEV becomes the next frame's history.\n{}\n{}"
        "  --no-history            run every frame as a sequence's first (zero history), to see\n"
        "                          what the temporal state buys\n"
        "  (default model {})\n\n{}",
        kSceneHelp, kOutputHelp, bevformer::default_model_path().string(), kPipelineHelp);
    return 0;
  }
  const Common c = parse_common(args, "bevformer", bevformer::default_model_path());
  const std::vector<detect3d::Scene> frames = detect3d::load_sequence(c.scene);
  auto start = std::chrono::steady_clock::now();
  bevformer::Detector detector(c.model, c.options);
  detector.config().score_threshold = c.threshold;
  print_tuning_summary(detector.model(), false);
  fmt::print("model        {} (BEVFormer, {} cameras at {}x{}, BEV {}x{}, classes {}), loaded in {:.2f} s\n",
             c.model.string(), detector.cameras(), detector.image_width(), detector.image_height(), detector.bev_size(),
             detector.bev_size(), fmt::join(detector.config().classes, ","), ms_since(start) / 1000);
  const bool history = !args.flag("--no-history");
  bevformer::History state;
  std::vector<detect3d::FrameResult> results;
  for (size_t i = 0; i < frames.size(); ++i) {
    results.push_back(detector.run(frames[i], state, history));
    print_frame(results.back(), i, frames.size());
  }
  finish(c, args, detector.config(), frames, results);
  return 0;
}

}  // namespace nnc::cli
