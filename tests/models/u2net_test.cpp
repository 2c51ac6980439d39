// The U2Net pipeline (models/u2net.h) with the bundled trained U2NETP: the model's outputs
// against PyTorch's, and the whole pipeline's mask against the same post-processing done by
// PyTorch and PIL (tests/data/golden/u2netp_trained, written by tools/reference/train_u2netp.py).
#include <doctest/doctest.h>

#include <filesystem>

#include "core/compare.h"
#include "core/npy.h"
#include "models/u2net.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kTrained = kSource / "tests/data/golden/u2netp_trained";

// Loaded (optimised and tuned: seconds) once for the tests that share it.
const u2net::SalientObjectDetector& bundled_detector() {
  static const u2net::SalientObjectDetector detector(u2net::default_model_path());
  return detector;
}

}  // namespace

TEST_CASE("u2net: the bundled trained U2NETP matches PyTorch on all 7 outputs, optimised and tuned") {
  const u2net::SalientObjectDetector& detector = bundled_detector();
  CHECK(detector.input_width() == 320);
  CHECK(detector.input_height() == 320);
  CHECK_FALSE(detector.model().kernels().empty());  // the tuned path, not the reference kernels
  const Model& model = detector.model();
  const auto outputs = Session(model).run({{model.input_names().front(), read_npy(kTrained / "input_0.npy")}});
  const std::vector<std::string> names = model.output_names();
  REQUIRE(names.size() == 7);
  for (size_t k = 0; k < names.size(); ++k) {
    const Difference d = compare(outputs.at(names[k]), read_npy(kTrained / fmt::format("output_{}.npy", k)));
    INFO(names[k] << ": rel L2 " << d.rel_l2 << ", max abs " << d.max_abs);
    CHECK(d.rel_l2 < 1e-4);
  }
}

TEST_CASE("u2net: the mask of a photo at its own size matches PyTorch + PIL's post-processing") {
  const u2net::SalientObjectDetector& detector = bundled_detector();
  const Image photo = read_image(kSource / "models/samples/chelsea.png");
  const u2net::Result result = detector.run(photo);
  const Image expected = read_image(kTrained / "chelsea_mask.png");  // read as RGB: grey x3
  REQUIRE(result.mask.width == photo.width);
  REQUIRE(result.mask.height == photo.height);
  REQUIRE(result.mask.channels == 1);
  int max_levels = 0;
  double sum_levels = 0;
  for (size_t i = 0; i < result.mask.pixels.size(); ++i) {
    const int levels = std::abs(int(result.mask.pixels[i]) - int(expected.pixels[3 * i]));
    max_levels = std::max(max_levels, levels);
    sum_levels += levels;
  }
  const double mean_levels = sum_levels / double(result.mask.pixels.size());
  INFO("max " << max_levels << " grey levels, mean " << mean_levels);
  // The input differs from PIL's by up to one grey level (see tests/images), which moves the
  // min-max-normalised map a little; the resize back and rounding agree otherwise.
  CHECK(max_levels <= 2);
  CHECK(mean_levels < 0.3);

  REQUIRE(result.cutout.channels == 4);
  for (size_t i = 0; i < result.mask.pixels.size(); i += 97) {
    CHECK(result.cutout.pixels[4 * i + 3] == result.mask.pixels[i]);
    CHECK(result.cutout.pixels[4 * i] == photo.pixels[3 * i]);
    CHECK(result.cutout.pixels[4 * i + 2] == photo.pixels[3 * i + 2]);
  }
}

TEST_CASE("u2net: a model that breaks the convention is refused, naming what is wrong") {
  // The golden transformer block takes f32[2,16,64]: not an image model.
  try {
    u2net::SalientObjectDetector(kSource / "tests/data/golden/transformer/model.onnx");
    FAIL("expected BadInput");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    CHECK(std::string(e.what()).find("[1,3,H,W]") != std::string::npos);
  }
  CHECK_THROWS_AS(u2net::SalientObjectDetector(kSource / "no/such/model.onnx"), Error);
}
