#include "models/input_files.h"

#include <algorithm>
#include <cctype>

#include "core/npy.h"
#include "importers/onnx/tensor_proto.h"

namespace nnc {
namespace fs = std::filesystem;
namespace {

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return ext;
}

// Whether `t` can be fed to an input of type `want` (unknown dims accept any size).
bool fits(const Tensor& t, const TensorType& want) {
  if (t.dtype() != want.dtype) return false;
  if (!want.shape.rank_known) return true;
  if (t.rank() != want.shape.rank()) return false;
  for (int i = 0; i < t.rank(); ++i)
    if (want.shape.dims[size_t(i)].known() && want.shape.dims[size_t(i)].value != t.dims()[size_t(i)]) return false;
  return true;
}

}  // namespace

bool is_input_file(const fs::path& path) {
  const std::string ext = lower_extension(path);
  return ext == ".npy" || ext == ".pb" || ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" ||
         ext == ".ppm" || ext == ".pgm";
}

Tensor read_input_file(const Graph& g, ValueId input, const fs::path& file, const Preprocess& pre,
                       std::optional<std::pair<int, int>>* image_size) {
  std::error_code ec;
  if (!fs::exists(file, ec)) bad_input("{}: no such file", file.string());
  if (fs::is_directory(file, ec)) bad_input("{}: is a directory, not an input file", file.string());
  const std::string ext = lower_extension(file);
  if (ext == ".npy") return read_npy(file);
  if (ext == ".pb") return onnx_import::read_tensor_proto_file(file);
  Preprocess resolved = pre;
  const Shape& shape = g.type(input).shape;
  if (!resolved.size && shape.rank() == 4 && shape.dims[2].known() && shape.dims[3].known()) {
    const int64_t h = shape.dims[2].value, w = shape.dims[3].value;
    // The model's own size, when it is one an image can have.
    if (h > 0 && w > 0 && h <= INT32_MAX && w <= INT32_MAX) resolved.size = {int(w), int(h)};
  }
  const Image image = read_image(file);
  if (image_size && !*image_size) *image_size = std::pair{image.width, image.height};
  return image_to_tensor(image, resolved);
}

std::vector<Batch> read_calibration_folder(const fs::path& dir, const Graph& g, const Preprocess& pre, size_t limit,
                                           const std::string& option) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) bad_input("{} {}: not a directory", option, dir.string());
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec) || is_input_file(it->path())) entries.push_back(it->path());
  if (ec) bad_input("{} {}: cannot list: {}", option, dir.string(), ec.message());
  std::sort(entries.begin(), entries.end());
  if (entries.empty())
    bad_input("{} {}: no inputs (.npy, .pb or images, or one folder per input set)", option, dir.string());
  if (entries.size() > limit) entries.resize(limit);

  std::vector<Batch> batches;
  for (const fs::path& entry : entries) {
    Batch batch;
    if (fs::is_directory(entry, ec)) {
      for (ValueId id : g.inputs) {
        const std::string& name = g.value(id).name;
        fs::path file = entry / (name + ".npy");
        if (!fs::is_regular_file(file, ec)) file = entry / (name + ".pb");
        if (!fs::is_regular_file(file, ec))
          bad_input("{}: {} has no {}.npy or {}.pb for input '{}'", option, entry.string(), name, name, name);
        batch[name] = read_input_file(g, id, file, pre);
      }
    } else {
      if (g.inputs.size() != 1)
        bad_input("{}: the model has {} inputs; give one folder per input set holding <input>.npy files", option,
                  g.inputs.size());
      batch[g.value(g.inputs[0]).name] = read_input_file(g, g.inputs[0], entry, pre);
    }
    for (ValueId id : g.inputs) {
      const Tensor& t = batch.at(g.value(id).name);
      const TensorType& want = g.type(id);
      if (!fits(t, want))
        bad_input("{} {}: input '{}' is {}, the model wants {}", option, entry.string(), g.value(id).name,
                  to_string(t.type()), to_string(want));
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

}  // namespace nnc
