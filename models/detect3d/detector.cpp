#include "models/detect3d/detector.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include <fmt/ranges.h>

#include "core/error.h"
#include "core/json.h"
#include "core/plan_file.h"
#include "importers/onnx/onnx_importer.h"

namespace nnc::detect3d {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(sep, start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::array<double, 6> read_range(const std::string& text, const std::string& key, const fs::path& model) {
  const std::vector<std::string> parts = split(text, ',');
  if (parts.size() != 6) bad_input("{}: metadata {} is \"{}\", expected six numbers x0,y0,z0,x1,y1,z1", model.string(), key, text);
  std::array<double, 6> out{};
  for (size_t i = 0; i < 6; ++i) {
    char* end = nullptr;
    out[i] = std::strtod(parts[i].c_str(), &end);
    if (parts[i].empty() || *end != '\0' || !std::isfinite(out[i]))
      bad_input("{}: metadata {} is \"{}\": \"{}\" is not a number", model.string(), key, text, parts[i]);
  }
  for (size_t i = 0; i < 3; ++i)
    if (!(out[i] < out[i + 3])) bad_input("{}: metadata {} is \"{}\": each lower bound must be below its upper", model.string(), key, text);
  return out;
}

}  // namespace

DetectorConfig read_detector_config(const fs::path& model_path, const std::array<double, 6>& pc_range_default,
                                    bool centres_normalized_default) {
  DetectorConfig config;
  config.pc_range = pc_range_default;
  config.centres_normalized = centres_normalized_default;
  const std::map<std::string, std::string> meta = read_model_metadata(model_path);
  if (const auto it = meta.find("nnc.classes"); it != meta.end()) {
    config.classes = split(it->second, ',');
    for (const std::string& c : config.classes)
      if (c.empty()) bad_input("{}: metadata nnc.classes \"{}\" has an empty class name", model_path.string(), it->second);
  }
  if (const auto it = meta.find("nnc.pc_range"); it != meta.end()) config.pc_range = read_range(it->second, it->first, model_path);
  if (const auto it = meta.find("nnc.position_range"); it != meta.end())
    config.position_range = read_range(it->second, it->first, model_path);
  if (const auto it = meta.find("nnc.box_centres"); it != meta.end()) {
    if (it->second != "metres" && it->second != "normalized")
      bad_input("{}: metadata nnc.box_centres is \"{}\", expected metres or normalized", model_path.string(), it->second);
    config.centres_normalized = it->second == "normalized";
  }
  return config;
}

Dims input_dims(const Graph& g, const std::string& name, size_t rank, const std::string& model_what) {
  std::string names;
  for (const ValueId id : g.inputs) {
    const Value& v = g.value(id);
    names += (names.empty() ? "" : ", ") + v.name;
    if (v.name != name) continue;
    const TensorType& t = g.type(id);
    if (t.dtype != DType::F32 || !t.shape.rank_known || size_t(t.shape.rank()) != rank)
      bad_input("{}: input '{}' is {}, expected f32 of rank {}", model_what, name, to_string(t), rank);
    Dims dims;
    for (const Dim& d : t.shape.dims) {
      if (!d.known() || d.value < 1)
        bad_input("{}: input '{}' is {}: the pipeline needs every dimension fixed", model_what, name, to_string(t));
      dims.push_back(d.value);
    }
    return dims;
  }
  bad_input("{}: the model has no input '{}' (its inputs: {})", model_what, name, names);
}

Dims camera_input_dims(const Graph& g, const std::string& model_what) {
  const Dims dims = input_dims(g, "img", 5, model_what);
  if (dims[0] != 1 || dims[2] != 3) bad_input("{}: input 'img' is {}, expected [1,N,3,H,W]", model_what, to_string(dims));
  return dims;
}

Model load_detector(const fs::path& path, const LoadOptions& options) {
  if (!fs::exists(path)) bad_input("{}: no such model file", path.string());
  return load_model(path, options);
}

void require_outputs(const Model& model, const std::vector<std::string>& names, const std::string& model_what) {
  const std::vector<std::string> outputs = model.output_names();
  for (const std::string& name : names)
    if (std::find(outputs.begin(), outputs.end(), name) == outputs.end())
      bad_input("{}: the model has no output '{}' (it needs {})", model_what, name, fmt::join(names, ", "));
}

CameraBatch prepare_cameras(const Scene& scene, int width, int height) {
  const int64_t n = int64_t(scene.cameras.size());
  CameraBatch batch{Tensor(DType::F32, {1, n, 3, height, width}), {}};
  float* out = batch.images.data<float>();
  const size_t plane = size_t(width) * size_t(height);
  for (size_t c = 0; c < scene.cameras.size(); ++c) {
    const Camera& cam = scene.cameras[c];
    if (cam.image.width < 1 || cam.image.channels != 3)
      bad_input("{}: camera {}: no RGB image loaded", scene.folder.string(), cam.name);
    const Image resized =
        cam.image.width == width && cam.image.height == height ? cam.image : resize_image(cam.image, width, height);
    float* dst = out + c * 3 * plane;
    for (size_t i = 0; i < plane; ++i)
      for (size_t ch = 0; ch < 3; ++ch)
        dst[ch * plane + i] = (resized.pixels[3 * i + ch] / 255.0f - kImageNetMean[ch]) / kImageNetStd[ch];
    // Resizing by (sx, sy) scales the first two rows of K: a pixel of the file lands at (sx·u, sy·v).
    Mat3 k = cam.intrinsics;
    const double sx = double(width) / cam.image.width, sy = double(height) / cam.image.height;
    for (size_t j = 0; j < 3; ++j) {
      k[j] *= sx;
      k[3 + j] *= sy;
    }
    try {
      batch.lidar2img.push_back(lidar2img(k, cam.sensor_to_ego));
    } catch (const Error& e) {
      throw with_context(e, fmt::format("{}: camera {}: ", scene.folder.string(), cam.name));
    }
  }
  return batch;
}

std::vector<Box3D> decode_boxes(const Tensor& all_scores, const Tensor& all_boxes, const DetectorConfig& config,
                                size_t* dropped) {
  const Dims& s = all_scores.dims();
  const Dims& b = all_boxes.dims();
  if (all_scores.dtype() != DType::F32 || all_boxes.dtype() != DType::F32 || s.size() != 4 || b.size() != 4 || s[1] != 1 ||
      b[0] != s[0] || b[1] != 1 || b[2] != s[2] || b[3] != 10)
    bad_input("detector outputs are scores {} and boxes {}; expected [layers,1,Q,classes] and [layers,1,Q,10]",
              to_string(all_scores.type()), to_string(all_boxes.type()));
  const int64_t queries = s[2], classes = s[3];
  if (size_t(classes) != config.classes.size())
    bad_input("the model scores {} classes, but its class list has {} ({})", classes, config.classes.size(),
              fmt::join(config.classes, ","));
  const float* scores = all_scores.data<float>() + (s[0] - 1) * queries * classes;  // the last decoder layer
  const float* boxes = all_boxes.data<float>() + (b[0] - 1) * queries * 10;
  std::vector<int64_t> order(size_t(queries * classes));
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min(order.size(), size_t(std::max(config.max_boxes, 0)));
  // Ties (equal logits) keep index order, so the result does not depend on the sort's whims.
  std::partial_sort(order.begin(), order.begin() + ptrdiff_t(k), order.end(), [&](int64_t x, int64_t y) {
    return scores[x] > scores[y] || (scores[x] == scores[y] && x < y);
  });
  const auto& r = config.pc_range;
  std::vector<Box3D> out;
  size_t bad = 0;
  for (size_t i = 0; i < k; ++i) {
    const float logit = scores[order[i]];
    const float score = 1 / (1 + std::exp(-logit));
    if (!(score >= config.score_threshold)) continue;
    const int64_t q = order[i] / classes, label = order[i] % classes;
    const float* v = boxes + q * 10;
    Box3D box;
    box.label = int(label);
    box.class_name = config.classes[size_t(label)];
    box.score = score;
    box.center = {v[0], v[1], v[4]};
    if (config.centres_normalized)
      for (size_t a = 0; a < 3; ++a) box.center[a] = r[a] + box.center[a] * (r[a + 3] - r[a]);
    box.size = {std::exp(std::min(double(v[2]), 10.0)), std::exp(std::min(double(v[3]), 10.0)),
                std::exp(std::min(double(v[5]), 10.0))};
    box.yaw = std::atan2(double(v[6]), double(v[7]));
    box.velocity = {v[8], v[9]};
    bool finite = std::isfinite(score);
    for (int j = 0; j < 10; ++j) finite = finite && std::isfinite(v[j]);
    if (!finite) {
      ++bad;
      continue;
    }
    const bool inside = box.center[0] >= r[0] - 10 && box.center[0] <= r[3] + 10 && box.center[1] >= r[1] - 10 &&
                        box.center[1] <= r[4] + 10 && box.center[2] >= r[2] - 5 && box.center[2] <= r[5] + 5;
    if (inside) out.push_back(box);
  }
  if (dropped) *dropped = bad;
  return out;
}

std::string boxes_json(const std::string& model, const DetectorConfig& config, const std::vector<FrameResult>& frames) {
  auto num = [](double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string("null"); };
  std::string out = fmt::format("{{\n  \"model\": {},\n  \"classes\": [", json::quote(model));
  for (size_t i = 0; i < config.classes.size(); ++i) out += (i ? ", " : "") + json::quote(config.classes[i]);
  out += "],\n  \"frames\": [";
  for (size_t f = 0; f < frames.size(); ++f) {
    const FrameResult& fr = frames[f];
    out += fmt::format("{}\n    {{\"scene\": {}, \"timestamp\": {}, \"boxes\": [", f ? "," : "",
                       json::quote(fr.scene.string()), num(fr.timestamp));
    for (size_t i = 0; i < fr.boxes.size(); ++i) {
      const Box3D& b = fr.boxes[i];
      out += fmt::format(
          "{}\n      {{\"class\": {}, \"label\": {}, \"score\": {}, \"center\": [{}, {}, {}], \"size\": [{}, {}, {}], "
          "\"yaw\": {}, \"velocity\": [{}, {}]}}",
          i ? "," : "", json::quote(b.class_name), b.label, num(b.score), num(b.center[0]), num(b.center[1]),
          num(b.center[2]), num(b.size[0]), num(b.size[1]), num(b.size[2]), num(b.yaw), num(b.velocity[0]),
          num(b.velocity[1]));
    }
    out += fr.boxes.empty() ? "]}" : "\n    ]}";
  }
  return out + "\n  ]\n}\n";
}

}  // namespace nnc::detect3d
