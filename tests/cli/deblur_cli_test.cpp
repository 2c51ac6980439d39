// `nnc deblur` end to end: the documented command line, reproducibility by seed, odd images,
// and usage mistakes (exit 2 with a message saying what is wrong).
#include <doctest/doctest.h>

#include <filesystem>

#include "models/image_io.h"
#include "run_cli.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kImages = kSource / "tests/data/images";

// Runs `nnc deblur` with a timing cache shared by every call in `dir`: only the first one tunes.
nnc::testing::CliResult deblur(const std::string& arguments, const fs::path& dir) {
  return nnc::testing::run_cli(fmt::format("deblur {} --timing-cache {}", arguments, (dir / "timing-cache").string()), dir);
}

}  // namespace

TEST_CASE("nnc deblur: writes the image at its size with each stage's latency; a seed reproduces it") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("nnc_deblur_cli_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string image = (kImages / "rgb_96x64.png").string();

  const nnc::testing::CliResult first = deblur(fmt::format("{} -o {} --steps 3 --eta 1 --seed 5", image, (dir / "a.png").string()), dir);
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  for (const char* stage : {"preprocess", "predictor", "sampler", "postprocess", "wrote"})
    CHECK_MESSAGE(first.output.find(stage) != std::string::npos, stage);
  const Image a = read_image(dir / "a.png");
  CHECK(a.width == 96);
  CHECK(a.height == 64);
  REQUIRE(deblur(fmt::format("{} -o {} --steps 3 --eta 1 --seed 5", image, (dir / "b.png").string()), dir).exit_code == 0);
  CHECK(read_image(dir / "b.png").pixels == a.pixels);
  REQUIRE(deblur(fmt::format("{} -o {} --steps 3 --eta 1 --seed 6", image, (dir / "c.png").string()), dir).exit_code == 0);
  CHECK(read_image(dir / "c.png").pixels != a.pixels);

  // Odd images: 1x1, grayscale, 16-bit, RGBA; predictor only.
  for (const char* name : {"one_pixel.png", "gray_96x64.png", "gray16_96x64.png", "rgba_96x64.png"}) {
    const nnc::testing::CliResult r = deblur(fmt::format("{} -o {} --predictor-only", (kImages / name).string(), (dir / "p.png").string()), dir);
    INFO(name << ": " << r.output);
    CHECK(r.exit_code == 0);
    CHECK(read_image(dir / "p.png").width == (std::string(name) == "one_pixel.png" ? 1 : 96));
  }

  const std::pair<std::string, std::string> mistakes[] = {
      {fmt::format("{} -o {} --steps 0", image, (dir / "x.png").string()), "--steps"},
      {fmt::format("{} -o {} --steps 501", image, (dir / "x.png").string()), "--steps"},
      {fmt::format("{} -o {} --eta 1.5", image, (dir / "x.png").string()), "--eta"},
      {fmt::format("{} -o {} --seed -3", image, (dir / "x.png").string()), "--seed"},
      {fmt::format("{}", image), "-o"},
      {fmt::format("{} -o {}", (kImages / "truncated.png").string(), (dir / "x.png").string()), "truncated.png"},
      {fmt::format("{} -o {}", (kImages / "missing.png").string(), (dir / "x.png").string()), "no such file"},
      {fmt::format("{} -o {} --model-dir {}", image, (dir / "x.png").string(), dir.string()), "no such model file"},
  };
  for (const auto& [arguments, message] : mistakes) {
    const nnc::testing::CliResult r = deblur(arguments, dir);
    INFO(arguments << ": " << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(message) != std::string::npos);
  }
  fs::remove_all(dir);
}
