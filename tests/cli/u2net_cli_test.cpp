// `nnc u2net` end to end: the documented command line, and every awkward image a user may give
// it (a clear error with exit 2, or correct handling), never a crash.
#include <doctest/doctest.h>

#include <filesystem>

#include "models/image_io.h"
#include "run_cli.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kImages = kSource / "tests/data/images";

// Runs `nnc u2net` with a timing cache shared by every call in `dir`: only the first one tunes.
nnc::testing::CliResult u2net(const std::string& arguments, const fs::path& dir) {
  return nnc::testing::run_cli(fmt::format("u2net {} --timing-cache {}", arguments, (dir / "timing-cache").string()), dir);
}

}  // namespace

TEST_CASE("nnc u2net: writes the mask and the RGBA cut-out at the image's size, with each stage's latency") {
  const fs::path dir = fs::temp_directory_path() / fmt::format("nnc_u2net_cli_{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);

  const nnc::testing::CliResult ok = u2net(fmt::format("{} --mask {} --cutout {}", (kSource / "models/samples/chelsea.png").string(),
                                   (dir / "mask.png").string(), (dir / "cutout.png").string()),
                       dir);
  INFO(ok.output);
  REQUIRE(ok.exit_code == 0);
  for (const char* stage : {"preprocess", "inference", "postprocess", "wrote mask", "wrote cutout"})
    CHECK_MESSAGE(ok.output.find(stage) != std::string::npos, stage);
  CHECK(read_image(dir / "mask.png").width == 451);
  CHECK(read_image(dir / "cutout.png").height == 300);

  // Grayscale, 16-bit, RGBA and 1x1 images are handled.
  {
    for (const char* name : {"gray_96x64.png", "gray16_96x64.png", "rgba_96x64.png", "one_pixel.png"}) {
      const nnc::testing::CliResult r = u2net(fmt::format("{} --mask {}", (kImages / name).string(), (dir / "m.png").string()), dir);
      INFO(name << ": " << r.output);
      REQUIRE(r.exit_code == 0);
      const Image mask = read_image(dir / "m.png");
      CHECK(mask.width == (std::string(name) == "one_pixel.png" ? 1 : 96));
    }
  }
  // Bad images and usage exit with 2 and say what is wrong.
  {
    const std::pair<std::string, std::string> cases[] = {
        {fmt::format("{} --mask {}", (kImages / "missing.png").string(), (dir / "m.png").string()), "no such file"},
        {fmt::format("{} --mask {}", (kImages / "not_an_image.png").string(), (dir / "m.png").string()), "not a readable image"},
        {fmt::format("{} --mask {}", (kImages / "truncated.png").string(), (dir / "m.png").string()), "truncated.png"},
        {fmt::format("{} --mask {}", (kImages / "declares_17000x17000.png").string(), (dir / "m.png").string()), "over the image pixels limit"},
        {fmt::format("{}", (kImages / "rgb_96x64.png").string()), "--mask"},
        {fmt::format("{} --mask {}/no/such/dir/m.png", (kImages / "rgb_96x64.png").string(), dir.string()), "does not exist"},
        {fmt::format("{} --mask {} --model {}", (kImages / "rgb_96x64.png").string(), (dir / "m.png").string(),
                     (kSource / "tests/data/golden/transformer/model.onnx").string()), "[1,3,H,W]"},
    };
    for (const auto& [arguments, message] : cases) {
      const nnc::testing::CliResult r = u2net(arguments, dir);
      INFO(arguments << ": " << r.output);
      CHECK(r.exit_code == 2);
      CHECK(r.output.find(message) != std::string::npos);
    }
  }
  fs::remove_all(dir);
}
