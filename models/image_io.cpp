#include "models/image_io.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <fstream>
#include <optional>

#include "core/limits.h"

// stb_image is compiled in models/stb_image_impl.cpp (with the formats nnc reads).
#include <stb_image.h>
#include <stb_image_write.h>

namespace nnc {
namespace fs = std::filesystem;

namespace {

// stb_image 2.27 (Debian 12's) trusts a JPEG Huffman table's code count: a DHT segment whose 16
// counts add up to more than 256 writes past the table's arrays (fixed upstream in 2.28; found
// by tests/fuzz). Every DHT stb reads begins with the bytes FF C4 (a marker, possibly after fill
// bytes), so this checks the tables after every FF C4 in the file exactly as stb will read them,
// bytes past the end reading as zero as in stb. An FF C4 that is not a marker (inside an EXIF
// thumbnail, say) is checked too: a table there is either sane or the thumbnail is broken.
void check_jpeg_huffman_tables(std::string_view bytes, const std::string& what) {
  const auto byte_at = [&](size_t i) -> int { return i < bytes.size() ? uint8_t(bytes[i]) : 0; };
  for (size_t at = bytes.find("\xFF\xC4"); at != std::string_view::npos; at = bytes.find("\xFF\xC4", at + 1)) {
    size_t pos = at + 2;
    int remaining = (byte_at(pos) << 8 | byte_at(pos + 1)) - 2;
    pos += 2;
    while (remaining > 0 && pos < bytes.size()) {
      const int table_class = byte_at(pos) >> 4, table_id = byte_at(pos) & 15;
      if (table_class > 1 || table_id > 3) break;  // stb refuses the file here
      int codes = 0;
      for (int i = 0; i < 16; ++i) codes += byte_at(pos + 1 + size_t(i));
      if (codes > 256)
        bad_input("{}: corrupt JPEG: a Huffman table at byte {} declares {} codes (at most 256)", what, at, codes);
      pos += 17 + size_t(codes);
      remaining -= 17 + codes;
    }
  }
}

// A PNG chunk type for an error message: its four letters, or their hex if not letters.
std::string printable_chunk_type(std::string_view type) {
  for (char ch : type)
    if (!std::isalpha(uint8_t(ch))) return fmt::format("{:02x}{:02x}{:02x}{:02x}", uint8_t(type[0]), uint8_t(type[1]),
                                                       uint8_t(type[2]), uint8_t(type[3]));
  return std::string(type);
}

// Two guards for stb_image 2.27's PNG reader (both found by tests/fuzz):
//  * it copies a PNG's first IDAT chunk with memcpy from a null buffer when that chunk is empty
//    (undefined behaviour). An empty IDAT adds no data, so such chunks are dropped from a copy of
//    the file, which stb then reads; `storage` holds that copy.
//  * it grows its buffer to a chunk's declared length before reading the chunk, so a few bytes
//    declaring a 2 GiB IDAT allocate 2 GiB. A chunk longer than the rest of the file is refused.
std::string_view checked_png_chunks(std::string_view bytes, std::string& storage, const std::string& what) {
  static constexpr std::string_view kSignature = "\x89PNG\r\n\x1a\n";
  if (bytes.substr(0, kSignature.size()) != kSignature) return bytes;
  const auto read_u32 = [&](size_t at) {
    return uint32_t(uint8_t(bytes[at])) << 24 | uint32_t(uint8_t(bytes[at + 1])) << 16 |
           uint32_t(uint8_t(bytes[at + 2])) << 8 | uint32_t(uint8_t(bytes[at + 3]));
  };
  std::vector<std::pair<size_t, size_t>> kept;  // [begin, end) ranges of the file to keep
  size_t kept_from = 0, at = kSignature.size();
  while (at + 8 <= bytes.size()) {  // length, type, data, CRC (perhaps cut off)
    const uint32_t length = read_u32(at);
    if (length == 0 && bytes.substr(at + 4, 4) == "IDAT") {
      kept.emplace_back(kept_from, at);
      kept_from = std::min(at + 12, bytes.size());
    }
    if (at + 12 > bytes.size()) break;  // a cut-off chunk header: stb reports the truncation
    if (length > bytes.size() - at - 12)
      bad_input("{}: PNG chunk '{}' declares {} bytes but only {} remain in the file (truncated or corrupt)", what,
                printable_chunk_type(bytes.substr(at + 4, 4)), length, bytes.size() - at - 12);
    at += 12 + size_t(length);
  }
  if (kept.empty()) return bytes;
  kept.emplace_back(kept_from, bytes.size());
  storage.clear();
  for (const auto& [begin, end] : kept) storage.append(bytes.substr(begin, end - begin));
  return storage;
}

// Binary PGM (P5) and PPM (P6): what nnc needs of the header stb reads (magic, width, height,
// maxval, each after whitespace and '#' comments, then one separator byte), or nullopt when the
// file is not one. Width and height are stb's to report.
struct PnmHeader {
  size_t length = 0;  // bytes before the pixels
  uint64_t maxval = 0, channels = 0;
};
std::optional<PnmHeader> read_pnm_header(std::string_view bytes, const std::string& what) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return std::nullopt;
  PnmHeader header;
  header.channels = bytes[1] == '5' ? 1 : 3;
  size_t at = 2;
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  const auto skip_space_and_comments = [&] {
    for (;;) {
      while (at < bytes.size() && is_space(bytes[at])) ++at;
      if (at >= bytes.size() || bytes[at] != '#') return;
      while (at < bytes.size() && bytes[at] != '\n' && bytes[at] != '\r') ++at;
    }
  };
  // stb accumulates these in an int and overflows past 2^31 - 1 (found by tests/fuzz).
  const auto read_number = [&] {
    uint64_t value = 0;
    while (at < bytes.size() && bytes[at] >= '0' && bytes[at] <= '9') {
      value = value * 10 + uint64_t(bytes[at++] - '0');
      if (value > uint64_t(INT32_MAX)) bad_input("{}: a number in its PGM/PPM header is over 2^31 - 1", what);
    }
    return value;
  };
  for (int field = 0; field < 3; ++field) {  // width, height, then maxval, which is kept
    skip_space_and_comments();
    header.maxval = read_number();
  }
  header.length = at + 1;  // the one whitespace byte after maxval
  return header;
}

// stb_image 2.27 converts a 16-bit PGM/PPM's channels with its 8-bit routine, reading and
// writing past its buffers (found by tests/fuzz), and leaves the pixels a short file lacks
// uninitialised. So PNM files are checked here for their full pixel data and decoded in their
// own channel count, which nnc then expands to RGB itself.
// `width` and `height` are stb's reading of the header, already checked against the pixel limit.
bool check_pnm_pixels_present(const std::optional<PnmHeader>& header, std::string_view bytes, int width, int height,
                              const std::string& what) {
  if (!header) return false;
  const uint64_t sample_bytes = header->maxval > 255 ? 2 : 1;
  const uint64_t needed = uint64_t(width) * uint64_t(height) * header->channels * sample_bytes;
  const uint64_t present = bytes.size() > header->length ? bytes.size() - header->length : 0;
  if (present < needed)
    bad_input("{}: truncated PGM/PPM: its {}x{} header needs {} bytes of pixels, the file has {}", what, width,
              height, needed, present);
  return true;
}

// Interleaved 1-4 channel pixels (grey, grey+alpha, RGB, RGBA) as RGB: grey replicated, alpha dropped.
std::vector<uint8_t> to_rgb(const stbi_uc* pixels, size_t count, int channels) {
  std::vector<uint8_t> rgb(count * 3);
  for (size_t i = 0; i < count; ++i) {
    const stbi_uc* p = pixels + i * size_t(channels);
    const bool grey = channels < 3;
    rgb[3 * i] = p[0];
    rgb[3 * i + 1] = grey ? p[0] : p[1];
    rgb[3 * i + 2] = grey ? p[0] : p[2];
  }
  return rgb;
}

}  // namespace

Image decode_image(std::string_view file_bytes, const std::string& what) {
  if (file_bytes.empty()) bad_input("{}: the image file is empty", what);
  if (file_bytes.size() > (size_t(1) << 31) - 1) bad_input("{}: image file is over 2 GiB", what);
  std::string cleaned;
  const std::string_view bytes = checked_png_chunks(file_bytes, cleaned, what);
  // stb takes any file starting with FF (fill bytes, then the D8 of start-of-image) for a JPEG.
  if (uint8_t(bytes[0]) == 0xFF) check_jpeg_huffman_tables(bytes, what);
  const std::optional<PnmHeader> pnm_header = read_pnm_header(bytes, what);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  int w = 0, h = 0, c = 0;
  // Check the declared size before decoding: a tiny file can declare a huge image.
  if (!stbi_info_from_memory(data, int(bytes.size()), &w, &h, &c))
    bad_input("{}: not a readable image ({}); PNG, JPEG, BMP and PPM/PGM are supported", what, stbi_failure_reason());
  if (w <= 0 || h <= 0) bad_input("{}: the image declares size {}x{}", what, w, h);
  check_limit(fmt::format("{}: the pixel count of its {}x{} image", what, w, h), "image pixels", uint64_t(w) * uint64_t(h));
  const bool pnm = check_pnm_pixels_present(pnm_header, bytes, w, h, what);
  // Other formats convert to RGB inside stb, which knows their real output channel count (a
  // PNG's transparency chunk adds one that `c` does not report).
  const int wanted_channels = pnm ? 0 : 3;
  stbi_uc* pixels = stbi_load_from_memory(data, int(bytes.size()), &w, &h, &c, wanted_channels);
  if (!pixels) bad_input("{}: cannot decode image: {}", what, stbi_failure_reason());
  const size_t count = size_t(w) * size_t(h);
  Image image{w, h, 3, pnm ? to_rgb(pixels, count, c) : std::vector<uint8_t>(pixels, pixels + count * 3)};
  stbi_image_free(pixels);
  return image;
}

Image read_image(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) bad_input("{}: no such file", path.string());
  if (fs::is_directory(path, ec)) bad_input("{}: is a directory, not an image", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open image", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(bytes, path.string());
}

namespace {

// One output index's source range and weights along an axis.
struct Taps {
  int first = 0;
  std::vector<float> weights;
};

// Bilinear (triangle) taps for resampling `in` samples to `out`, with half-pixel centres. When
// shrinking, the triangle is widened by the scale factor so every source pixel contributes (as
// PIL does): plain 2-tap bilinear would skip most pixels of a large photo and alias.
std::vector<Taps> triangle_taps(int in, int out) {
  const double scale = double(in) / out;
  const double width = std::max(scale, 1.0);  // the filter's half-support, in source pixels
  std::vector<Taps> taps(static_cast<size_t>(out));
  for (int o = 0; o < out; ++o) {
    const double centre = (o + 0.5) * scale;
    const int lo = std::max(int(std::floor(centre - width + 0.5)), 0);
    const int hi = std::min(int(std::floor(centre + width + 0.5)), in);
    Taps& t = taps[size_t(o)];
    t.first = lo;
    double sum = 0;
    for (int i = lo; i < hi; ++i) {
      const double w = std::max(0.0, 1.0 - std::abs((i + 0.5 - centre) / width));
      t.weights.push_back(float(w));
      sum += w;
    }
    if (sum <= 0) {  // only at extreme ratios: fall back to the nearest pixel
      t.first = std::clamp(int(centre), 0, in - 1);
      t.weights.assign(1, 1.0f);
      sum = 1;
    }
    for (float& w : t.weights) w = float(w / sum);
  }
  return taps;
}

template <typename Out>
Out store(float v) {
  if constexpr (std::is_same_v<Out, uint8_t>) return uint8_t(std::lround(std::clamp(v, 0.0f, 255.0f)));
  else return v;
}

// Separable resample of an interleaved w x h x channels raster: rows first into a float buffer
// (h x W x c, never larger than the smaller of the two images' heights times the new width),
// then columns straight into the output type.
template <typename In, typename Out>
void resample(const In* src, int w, int h, int channels, Out* dst, int out_w, int out_h) {
  const std::vector<Taps> across = triangle_taps(w, out_w), down = triangle_taps(h, out_h);
  const size_t c = size_t(channels);
  std::vector<float> rows(size_t(h) * size_t(out_w) * c);
  for (int y = 0; y < h; ++y) {
    const In* in_row = src + size_t(y) * size_t(w) * c;
    float* out_row = rows.data() + size_t(y) * size_t(out_w) * c;
    for (int x = 0; x < out_w; ++x)
      for (size_t ch = 0; ch < c; ++ch) {
        const Taps& t = across[size_t(x)];
        float acc = 0;
        for (size_t k = 0; k < t.weights.size(); ++k) acc += t.weights[k] * float(in_row[(size_t(t.first) + k) * c + ch]);
        out_row[size_t(x) * c + ch] = acc;
      }
  }
  const size_t row_len = size_t(out_w) * c;
  std::vector<float> acc(row_len);
  for (int y = 0; y < out_h; ++y) {
    const Taps& t = down[size_t(y)];
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (size_t k = 0; k < t.weights.size(); ++k) {
      const float* in_row = rows.data() + (size_t(t.first) + k) * row_len;
      for (size_t i = 0; i < row_len; ++i) acc[i] += t.weights[k] * in_row[i];
    }
    Out* out_row = dst + size_t(y) * row_len;
    for (size_t i = 0; i < row_len; ++i) out_row[i] = store<Out>(acc[i]);
  }
}

void check_resize_target(int width, int height) {
  if (width <= 0 || height <= 0) bad_input("cannot resize an image to {}x{}", width, height);
  check_limit(fmt::format("resizing to {}x{}: the pixel count", width, height), "image pixels",
              uint64_t(width) * uint64_t(height));
}

}  // namespace

Image resize_image(const Image& src, int width, int height) {
  check_resize_target(width, height);
  if (width == src.width && height == src.height) return src;
  Image out{width, height, src.channels, std::vector<uint8_t>(size_t(width) * size_t(height) * size_t(src.channels))};
  resample(src.pixels.data(), src.width, src.height, src.channels, out.pixels.data(), width, height);
  return out;
}

std::vector<float> resize_plane(std::span<const float> plane, int width, int height, int new_width, int new_height) {
  check_resize_target(new_width, new_height);
  if (plane.size() != size_t(width) * size_t(height))
    fail(ErrorKind::Internal, "resize_plane: {} values for a {}x{} plane", plane.size(), width, height);
  std::vector<float> out(size_t(new_width) * size_t(new_height));
  resample(plane.data(), width, height, 1, out.data(), new_width, new_height);
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
  std::vector<float> plane(size_t(h * w));
  for (int64_t i = 0; i < h * w; ++i) plane[size_t(i)] = float(map.get_double(i));
  write_png(path, plane_to_image(normalize_min_max(std::move(plane)), int(w), int(h), size));
}

std::vector<float> normalize_min_max(std::vector<float> plane) {
  if (plane.empty()) return plane;
  const auto [lo, hi] = std::minmax_element(plane.begin(), plane.end());
  const float low = *lo, range = *hi - *lo;
  for (float& v : plane) v = range > 0 ? (v - low) / range : 0.0f;
  return plane;
}

Image plane_to_image(const std::vector<float>& unit_plane, int width, int height, std::optional<std::pair<int, int>> size) {
  const auto [out_w, out_h] = size.value_or(std::pair{width, height});
  const std::vector<float> sized =
      size ? resize_plane(unit_plane, width, height, out_w, out_h) : unit_plane;
  Image image{out_w, out_h, 1, std::vector<uint8_t>(sized.size())};
  for (size_t i = 0; i < sized.size(); ++i) image.pixels[i] = uint8_t(std::lround(std::clamp(sized[i], 0.0f, 1.0f) * 255.0f));
  return image;
}

}  // namespace nnc
