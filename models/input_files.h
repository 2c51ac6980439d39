// models/input_files.h — a model's inputs read from files: NumPy .npy, ONNX TensorProto .pb, or
// an image (PNG, JPEG, BMP, PPM/PGM) preprocessed to f32[1,3,H,W]; and calibration folders, a
// set of such inputs per batch.
#pragma once

#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "core/graph.h"
#include "core/quantize.h"
#include "models/image_io.h"

namespace nnc {

// True for the file extensions read_input_file reads (any case): .npy .pb .png .jpg .jpeg .bmp
// .ppm .pgm.
bool is_input_file(const std::filesystem::path& path);

// Input `input` of `g` from `file`. Images are preprocessed by `pre`; without a size there, to
// the input's own H and W when the graph knows them. `image_size` (when given and still empty)
// receives the image's size before resizing.
Tensor read_input_file(const Graph& g, ValueId input, const std::filesystem::path& file, const Preprocess& pre,
                       std::optional<std::pair<int, int>>* image_size = nullptr);

// The calibration inputs in `dir`, in name order, at most `limit` of them: one file per batch
// for a one-input model, or one folder per batch holding <input name>.npy (or .pb) for every
// input. Each is checked against the input's dtype and shape; errors name the file (`option`,
// e.g. "--calib", starts every message).
std::vector<Batch> read_calibration_folder(const std::filesystem::path& dir, const Graph& g, const Preprocess& pre,
                                           size_t limit, const std::string& option = "--calib");

}  // namespace nnc
