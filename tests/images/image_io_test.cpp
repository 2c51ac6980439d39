// Image I/O: preprocessing against PIL's (the golden U2NETP input was made by PIL), and every
// awkward or malformed file a user may hand `nnc u2net` / `nnc run`: a clear error or correct
// handling, never a crash or a huge allocation. Runs under the sanitizers (label malformed).
#include <doctest/doctest.h>

#include <fstream>

#include <filesystem>

#include "core/error.h"
#include "core/npy.h"
#include "models/image_io.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kImages = kSource / "tests/data/images";

std::string bad_input_message(const fs::path& path) {
  try {
    read_image(path);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    return e.what();
  }
  FAIL("expected a BadInput error for " << path.string());
  return "";
}

}  // namespace

TEST_CASE("images: resize + ImageNet normalisation of a photo matches PIL's BILINEAR (antialiased) to one grey level") {
  // tests/data/golden/u2netp/input_0.npy is PIL's resize of chelsea.png (451x300 -> 320x320:
  // shrinking across, enlarging down), normalised by export_goldens.py.
  Preprocess pre;
  pre.size = std::pair{320, 320};
  pre.mean = {0.485f, 0.456f, 0.406f};
  pre.std = {0.229f, 0.224f, 0.225f};
  const Tensor ours = image_to_tensor(read_image(kSource / "models/samples/chelsea.png"), pre);
  const Tensor pil = read_npy(kSource / "tests/data/golden/u2netp/input_0.npy");
  REQUIRE(ours.dims() == pil.dims());
  double max_levels = 0, sum_levels = 0;
  for (int64_t i = 0; i < ours.numel(); ++i) {
    const double std = pre.std[size_t(i / (320 * 320))];
    const double levels = std::abs(ours.get_double(i) - pil.get_double(i)) * std * 255.0;
    max_levels = std::max(max_levels, levels);
    sum_levels += levels;
  }
  INFO("max " << max_levels << " grey levels, mean " << sum_levels / double(ours.numel()));
  // PIL rounds to 8 bits between its horizontal and vertical passes, nnc only at the end: values
  // may differ by one level, and about a fifth do.
  CHECK(max_levels <= 1.01);
  CHECK(sum_levels / double(ours.numel()) < 0.25);
}

TEST_CASE("images: grayscale, 16-bit and RGBA files are read as 8-bit RGB") {
  const Image rgb = read_image(kImages / "rgb_96x64.png");
  REQUIRE(rgb.width == 96);
  REQUIRE(rgb.height == 64);
  REQUIRE(rgb.channels == 3);
  const Image gray = read_image(kImages / "gray_96x64.png");
  const Image gray16 = read_image(kImages / "gray16_96x64.png");
  for (const Image* image : {&gray, &gray16}) {
    REQUIRE(image->channels == 3);
    REQUIRE(image->pixels.size() == size_t(96 * 64 * 3));
    for (size_t i = 0; i < image->pixels.size(); i += 3) {  // grey replicated into R, G, B
      CHECK(image->pixels[i] == image->pixels[i + 1]);
      CHECK(image->pixels[i] == image->pixels[i + 2]);
    }
  }
  // The 16-bit file holds the 8-bit one's levels times 257: reading it back gives the same image.
  CHECK(gray16.pixels == gray.pixels);
  const Image rgba = read_image(kImages / "rgba_96x64.png");  // alpha dropped, colour kept
  REQUIRE(rgba.channels == 3);
  CHECK(rgba.pixels == rgb.pixels);
}

TEST_CASE("images: 8- and 16-bit PGM and PPM files read as the PNGs they were made from (PIL wrote both)") {
  // stb_image 2.27 overflowed its buffer converting a 16-bit PGM to RGB (found by tests/fuzz).
  const Image gray = read_image(kImages / "gray_96x64.png");
  const Image rgb = read_image(kImages / "rgb_96x64.png");
  for (const char* name : {"gray_96x64.pgm", "gray16_96x64.pgm"}) {
    INFO(name);
    const Image pgm = read_image(kImages / name);
    REQUIRE(pgm.width == 96);
    REQUIRE(pgm.height == 64);
    REQUIRE(pgm.channels == 3);
    CHECK(pgm.pixels == gray.pixels);
  }
  CHECK(read_image(kImages / "rgb_96x64.ppm").pixels == rgb.pixels);
  CHECK(bad_input_message(kImages / "truncated.pgm").find("truncated PGM/PPM") != std::string::npos);
}

TEST_CASE("images: a PNG whose first IDAT chunk is empty reads like the same PNG without it") {
  // Legal PNG; stb_image 2.27 memcpy'd from a null buffer on it (found by tests/fuzz).
  CHECK(read_image(kImages / "empty_idat_rgb_96x64.png").pixels == read_image(kImages / "rgb_96x64.png").pixels);
}

TEST_CASE("images: a PNG chunk declaring more bytes than the file holds is refused before stb allocates them") {
  // stb_image 2.27 grows its IDAT buffer to the declared length first: 2 GiB for a few bytes
  // (found by tests/fuzz).
  std::ifstream in(kImages / "rgb_96x64.png", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t idat = bytes.find("IDAT");
  REQUIRE(idat != std::string::npos);
  for (int i = 0; i < 4; ++i) bytes[idat - 4 + size_t(i)] = i == 0 ? '\x7f' : '\xff';
  try {
    decode_image(bytes, "huge_idat.png");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    CHECK(std::string(e.what()).find("huge_idat.png: PNG chunk 'IDAT' declares 2147483647 bytes") != std::string::npos);
  }
}

TEST_CASE("images: a 1x1 image resizes to any size and back") {
  const Image one = read_image(kImages / "one_pixel.png");
  REQUIRE(one.width == 1);
  const Image big = resize_image(one, 320, 200);
  REQUIRE(big.pixels.size() == size_t(320 * 200 * 3));
  for (size_t i = 0; i < big.pixels.size(); i += 3) {
    CHECK(big.pixels[i] == 200);
    CHECK(big.pixels[i + 1] == 30);
    CHECK(big.pixels[i + 2] == 10);
  }
  const Image back = resize_image(big, 1, 1);
  CHECK(back.pixels == one.pixels);
}

TEST_CASE("images: an 8000x8000 photo decodes and shrinks; a file declaring 17000x17000 is refused before decoding") {
  const Image big = read_image(kImages / "blank_8000x8000.png");
  CHECK(big.width == 8000);
  CHECK(big.height == 8000);
  const Image small = resize_image(big, 320, 320);
  CHECK(small.pixels.size() == size_t(320 * 320 * 3));
  CHECK(bad_input_message(kImages / "declares_17000x17000.png").find("over the image pixels limit") != std::string::npos);
}

TEST_CASE("images: missing, empty, non-image and truncated files are BadInput errors naming the file") {
  CHECK(bad_input_message(kImages / "no_such_file.png").find("no such file") != std::string::npos);
  CHECK(bad_input_message(kImages).find("directory") != std::string::npos);
  CHECK(bad_input_message(kImages / "not_an_image.png").find("not a readable image") != std::string::npos);
  CHECK(bad_input_message(kImages / "truncated.png").find("truncated.png") != std::string::npos);
}

TEST_CASE("images: resize_plane agrees with resize_image and keeps a constant plane constant") {
  std::vector<float> plane(7 * 5);
  for (size_t i = 0; i < plane.size(); ++i) plane[i] = float(i % 7) * 30.0f;
  Image image{7, 5, 1, {}};
  for (float v : plane) image.pixels.push_back(uint8_t(v));
  for (auto [w, h] : {std::pair{23, 17}, std::pair{3, 2}}) {
    const std::vector<float> a = resize_plane(plane, 7, 5, w, h);
    const Image b = resize_image(image, w, h);
    for (size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a[i] - float(b.pixels[i])) <= 0.5f);
  }
  const std::vector<float> flat = resize_plane(std::vector<float>(35, 0.25f), 7, 5, 100, 3);
  for (float v : flat) CHECK(v == doctest::Approx(0.25f));
  CHECK_THROWS_AS(resize_plane(plane, 7, 5, 0, 10), Error);
}
