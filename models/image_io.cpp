#include "models/image_io.h"

#include <cmath>
#include <fstream>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO_WARNINGS
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_write.h>

namespace nnc {
namespace fs = std::filesystem;

Image read_image(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open image", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) bad_input("{}: the image file is empty", path.string());
  if (bytes.size() > (size_t(1) << 31)) bad_input("{}: image file is over 2 GiB", path.string());
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  int w = 0, h = 0, c = 0;
  // Check the declared size before decoding: a tiny file can declare a huge image.
  if (!stbi_info_from_memory(data, int(bytes.size()), &w, &h, &c))
    bad_input("{}: not a readable image ({}); PNG, JPEG and BMP are supported", path.string(), stbi_failure_reason());
  if (w <= 0 || h <= 0 || int64_t(w) * h > kMaxImagePixels)
    bad_input("{}: image is {}x{}, over the limit of {} pixels", path.string(), w, h, kMaxImagePixels);
  stbi_uc* pixels = stbi_load_from_memory(data, int(bytes.size()), &w, &h, &c, 3);
  if (!pixels) bad_input("{}: cannot decode image: {}", path.string(), stbi_failure_reason());
  Image image{w, h, 3, std::vector<uint8_t>(pixels, pixels + size_t(w) * size_t(h) * 3)};
  stbi_image_free(pixels);
  return image;
}

Image resize_image(const Image& src, int width, int height) {
  if (width <= 0 || height <= 0 || int64_t(width) * height > kMaxImagePixels)
    bad_input("cannot resize an image to {}x{}", width, height);
  Image out{width, height, src.channels, std::vector<uint8_t>(size_t(width) * size_t(height) * size_t(src.channels))};
  const double sx = double(src.width) / width, sy = double(src.height) / height;
  for (int y = 0; y < height; ++y) {
    const double fy = std::clamp((y + 0.5) * sy - 0.5, 0.0, double(src.height - 1));
    const int y0 = int(fy), y1 = std::min(y0 + 1, src.height - 1);
    const double wy = fy - y0;
    for (int x = 0; x < width; ++x) {
      const double fx = std::clamp((x + 0.5) * sx - 0.5, 0.0, double(src.width - 1));
      const int x0 = int(fx), x1 = std::min(x0 + 1, src.width - 1);
      const double wx = fx - x0;
      for (int c = 0; c < src.channels; ++c) {
        auto at = [&](int yy, int xx) { return double(src.pixels[(size_t(yy) * size_t(src.width) + size_t(xx)) * size_t(src.channels) + size_t(c)]); };
        const double v = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
        out.pixels[(size_t(y) * size_t(width) + size_t(x)) * size_t(src.channels) + size_t(c)] = uint8_t(std::lround(std::clamp(v, 0.0, 255.0)));
      }
    }
  }
  return out;
}

Tensor image_to_tensor(const Image& image, const Preprocess& pre) {
  const Image sized = pre.size ? resize_image(image, pre.size->first, pre.size->second) : image;
  const int64_t h = sized.height, w = sized.width;
  Tensor t(DType::F32, {1, 3, h, w});
  float* out = t.data<float>();
  for (int c = 0; c < 3; ++c)
    for (int64_t i = 0; i < h * w; ++i)
      out[c * h * w + i] = (float(sized.pixels[size_t(i) * size_t(sized.channels) + size_t(c)]) / 255.0f - pre.mean[size_t(c)]) / pre.std[size_t(c)];
  return t;
}

void write_png(const fs::path& path, const Image& image) {
  if (!stbi_write_png(path.string().c_str(), image.width, image.height, image.channels, image.pixels.data(),
                      image.width * image.channels))
    fail(ErrorKind::Runtime, "{}: cannot write PNG", path.string());
}

void write_grayscale_png(const fs::path& path, const Tensor& map, std::optional<std::pair<int, int>> size) {
  if (map.rank() < 2) bad_input("cannot write a tensor of shape {} as an image", to_string(map.dims()));
  const int64_t h = map.dims()[size_t(map.rank()) - 2], w = map.dims()[size_t(map.rank()) - 1];
  if (h * w != map.numel())
    bad_input("cannot write a tensor of shape {} as a grayscale image: it holds more than one plane", to_string(map.dims()));
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < map.numel(); ++i) {
    lo = std::min(lo, map.get_double(i));
    hi = std::max(hi, map.get_double(i));
  }
  const double scale = hi > lo ? 255.0 / (hi - lo) : 0.0;
  Image image{int(w), int(h), 1, std::vector<uint8_t>(size_t(h * w))};
  for (int64_t i = 0; i < h * w; ++i) image.pixels[size_t(i)] = uint8_t(std::lround((map.get_double(i) - lo) * scale));
  write_png(path, size ? resize_image(image, size->first, size->second) : image);
}

}  // namespace nnc
