// models/image_io.h — images in and out of tensors (PNG/JPEG/BMP via stb_image, PNG out via
// stb_image_write), with the usual preprocessing: resize, scale to [0,1], mean/std, HWC->NCHW.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace nnc {

struct Image {
  int width = 0, height = 0, channels = 0;  // channels 1, 3 or 4
  std::vector<uint8_t> pixels;              // row-major, interleaved
};

// Decodes an image file to 3 channels (RGB; grayscale is replicated): PNG, JPEG, BMP, PPM/PGM.
// The size the header declares is checked against the image-pixels limit (core/limits.h)
// before decoding; `what` names the image in errors.
Image read_image(const std::filesystem::path& path);
Image decode_image(std::string_view bytes, const std::string& what);
// Bilinear resize with half-pixel centres; when shrinking, the filter widens with the scale so
// every source pixel counts (antialiased, as PIL's BILINEAR; PyTorch's align_corners=False
// equals it when enlarging).
Image resize_image(const Image& image, int width, int height);
// The same resampling for one float plane (width x height, row-major).
std::vector<float> resize_plane(std::span<const float> plane, int width, int height, int new_width, int new_height);
// (v - min) / (max - min) over the plane; all zeros when the plane is constant.
std::vector<float> normalize_min_max(std::vector<float> plane);
// A plane of values in [0,1] as an 8-bit grayscale image, resized (in float, before rounding)
// to `size` (width, height) when given.
Image plane_to_image(const std::vector<float>& unit_plane, int width, int height,
                     std::optional<std::pair<int, int>> size = std::nullopt);

struct Preprocess {
  std::optional<std::pair<int, int>> size;  // width, height; else the image's own size
  std::array<float, 3> mean{0, 0, 0};
  std::array<float, 3> std{1, 1, 1};
};
// RGB image -> f32[1,3,H,W] with (pixel/255 - mean) / std.
Tensor image_to_tensor(const Image& image, const Preprocess& pre);

// Writes a single-channel map (any shape whose last two dims are H, W and that holds one
// plane) as an 8-bit grayscale PNG, min-max normalised, then resized (bilinear) to `size`
// (width, height) when given.
void write_grayscale_png(const std::filesystem::path& path, const Tensor& map,
                         std::optional<std::pair<int, int>> size = std::nullopt);
void write_png(const std::filesystem::path& path, const Image& image);

}  // namespace nnc
