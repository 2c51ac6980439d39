#include "models/u2net.h"

#include <chrono>

#include "core/limits.h"
#include "core/plan_file.h"
#include "models/pipeline_common.h"

namespace nnc::u2net {
namespace fs = std::filesystem;
namespace {

constexpr int kDefaultSize = 320;  // what U2Net was trained at; used when the model leaves H, W open

// Checks the convention on the graph as imported; returns the input's name and the dims to run
// it at (symbolic N becomes 1, symbolic H and W 320).
std::pair<std::string, Dims> convention_input(const Graph& g, const fs::path& path) {
  const std::string where = path.string();
  if (g.inputs.size() != 1)
    bad_input("{}: a U2Net model has one input (an image), this one has {}", where, g.inputs.size());
  if (g.outputs.empty()) bad_input("{}: the model has no outputs", where);
  const Value& input = g.value(g.inputs[0]);
  const TensorType& type = g.type(g.inputs[0]);
  if (type.dtype != DType::F32)
    bad_input("{}: input '{}' is {}, a U2Net model takes f32 [1,3,H,W]", where, input.name, to_string(type));
  if (!type.shape.rank_known || type.shape.rank() != 4)
    bad_input("{}: input '{}' is {}, a U2Net model takes [1,3,H,W]", where, input.name, to_string(type));
  const std::vector<Dim>& d = type.shape.dims;
  if ((d[0].known() && d[0].value != 1) || (d[1].known() && d[1].value != 3))
    bad_input("{}: input '{}' is {}, a U2Net model takes [1,3,H,W] (one RGB image)", where, input.name, to_string(type));
  auto or_default = [](const Dim& dim, int64_t fallback) { return dim.known() ? dim.value : fallback; };
  const Dims dims{1, 3, or_default(d[2], kDefaultSize), or_default(d[3], kDefaultSize)};
  if (dims[2] < 1 || dims[3] < 1 || dims[2] * dims[3] > resource_limits().max_image_pixels)
    bad_input("{}: input '{}' is {}, not a usable image size", where, input.name, to_string(type));
  return {input.name, dims};
}

// The fused map: the first output, which must hold one H x W plane.
const Tensor& fused_map(const Model& model, const std::map<std::string, Tensor>& outputs) {
  const std::string name = model.output_names().front();
  const Tensor& map = outputs.at(name);
  if (map.dtype() != DType::F32 || map.rank() < 2 || map.numel() != map.dims()[size_t(map.rank()) - 1] * map.dims()[size_t(map.rank()) - 2])
    bad_input("{}: the first output '{}' is {}; a U2Net model's first output is the fused map [1,1,H,W]",
              model.source(), name, to_string(map.type()));
  return map;
}

}  // namespace

fs::path default_model_path() { return fs::path(NNC_SOURCE_DIR) / "models/u2net/u2netp.onnx"; }

SalientObjectDetector::SalientObjectDetector(const fs::path& model_path, LoadOptions options)
    : model_([&] {
        if (!fs::exists(model_path)) bad_input("{}: no such model file", model_path.string());
        if (is_plan_file(model_path)) return load_model(model_path);  // compiled: shapes are fixed
        LoadOptions probe;  // the graph as written, to read the input before fixing its shape
        probe.passes.level = 0;
        probe.fold_constants = false;
        probe.tune = false;
        const Model imported = load_model(model_path, probe);
        const auto [name, dims] = convention_input(imported.graph(), model_path);
        options.input_shapes[name] = dims;
        return load_model(model_path, options);
      }()) {
  const auto [name, dims] = convention_input(model_.graph(), model_path);
  height_ = int(dims[2]);
  width_ = int(dims[3]);
}

Result SalientObjectDetector::run(const Image& image) const {
  if (image.width < 1 || image.height < 1 || image.channels != 3) bad_input("u2net: expects an RGB image");
  Result result;
  auto start = std::chrono::steady_clock::now();
  Preprocess pre;
  pre.size = std::pair{width_, height_};
  pre.mean = kImageNetMean;
  pre.std = kImageNetStd;
  const Tensor input = image_to_tensor(image, pre);
  result.times.preprocess_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> outputs = Session(model_).run({{model_.input_names().front(), input}});
  result.times.inference_ms = ms_since(start);

  start = std::chrono::steady_clock::now();
  const Tensor& map = fused_map(model_, outputs);
  const int map_h = int(map.dims()[size_t(map.rank()) - 2]), map_w = int(map.dims()[size_t(map.rank()) - 1]);
  const float* values = map.data<float>();
  std::vector<float> plane(values, values + map.numel());
  result.mask = plane_to_image(normalize_min_max(std::move(plane)), map_w, map_h, std::pair{image.width, image.height});
  result.cutout = Image{image.width, image.height, 4, std::vector<uint8_t>(size_t(image.width) * size_t(image.height) * 4)};
  for (size_t i = 0; i < size_t(image.width) * size_t(image.height); ++i) {
    for (size_t c = 0; c < 3; ++c) result.cutout.pixels[4 * i + c] = image.pixels[3 * i + c];
    result.cutout.pixels[4 * i + 3] = result.mask.pixels[i];
  }
  result.times.postprocess_ms = ms_since(start);
  return result;
}

}  // namespace nnc::u2net
