// The nnc command line, end to end: run a golden model through `nnc run` and compare what it
// saves with PyTorch's outputs; check `compile`, `inspect` and the image path (U2NETP on a photo).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/compare.h"
#include "core/npy.h"
#include "models/image_io.h"
#include "run_cli.h"

using namespace nnc;
using nnc::testing::CliResult;
using nnc::testing::run_cli;
using nnc::testing::run_cli_stdout;
using nnc::testing::scratch_dir;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kGolden = kSource / "tests/data/golden";


}  // namespace

TEST_CASE("nnc run: saved outputs of the golden CNN match PyTorch's") {
  const fs::path dir = scratch_dir("run");
  const CliResult r = run_cli(fmt::format("run {} --input input={} --save-outputs {}", (kGolden / "cnn/model.onnx").string(),
                                          (kGolden / "cnn/input_0.npy").string(), (dir / "out").string()),
                              dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("inference:") != std::string::npos);
  const Difference d = compare(read_npy(dir / "out/mask.npy"), read_npy(kGolden / "cnn/output_0.npy"));
  CHECK(d.rel_l2 < 1e-5);
  fs::remove_all(dir);
}

TEST_CASE("nnc run: U2NETP on a photo writes a mask PNG at the photo's own size") {
  const fs::path dir = scratch_dir("png");
  const CliResult r = run_cli(fmt::format("run {} --input input={} --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 "
                                          "--save-png d0={} --save-png d1={} --png-size output",
                                          (kGolden / "u2netp/model.onnx").string(),
                                          (kSource / "models/samples/chelsea.png").string(), (dir / "d0.png").string(),
                                          (dir / "d1.png").string()),
                              dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  // --png-size applies to every --save-png; run again without it for the default.
  const Image native = read_image(dir / "d0.png");
  CHECK(native.width == 320);
  CHECK(native.height == 320);
  const CliResult again = run_cli(fmt::format("run {} --input input={} --save-png d0={}", (kGolden / "u2netp/model.onnx").string(),
                                              (kSource / "models/samples/chelsea.png").string(), (dir / "d0.png").string()),
                                  dir);
  REQUIRE(again.exit_code == 0);
  const Image original = read_image(dir / "d0.png");
  CHECK(original.width == 451);  // chelsea.png is 451x300
  CHECK(original.height == 300);
  fs::remove_all(dir);
}

TEST_CASE("nnc compile: reports every pass and writes IR that nnc run accepts") {
  const fs::path dir = scratch_dir("compile");
  const CliResult r =
      run_cli(fmt::format("compile {} -o {}", (kGolden / "u2netp/model.onnx").string(), (dir / "u2netp.nnc").string()), dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("fold-batchnorm") != std::string::npos);
  CHECK(r.output.find("folded 112 BatchNormalization") != std::string::npos);
  REQUIRE(fs::exists(dir / "u2netp.nnc"));
  const CliResult inspect = run_cli(fmt::format("inspect {}", (dir / "u2netp.nnc").string()), dir);
  INFO(inspect.output);
  CHECK(inspect.exit_code == 0);
  CHECK(inspect.output.find("Conv") != std::string::npos);
  CHECK(inspect.output.find("BatchNormalization") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc run: usage and input mistakes exit with 2 and say what is wrong") {
  const fs::path dir = scratch_dir("usage");
  const std::string model = (kGolden / "cnn/model.onnx").string();
  const CliResult missing_input = run_cli(fmt::format("run {}", model), dir);
  CHECK(missing_input.exit_code == 2);
  CHECK(missing_input.output.find("input 'input'") != std::string::npos);
  const CliResult wrong_name = run_cli(fmt::format("run {} --input nope=random", model), dir);
  CHECK(wrong_name.exit_code == 2);
  CHECK(wrong_name.output.find("not an input") != std::string::npos);
  const CliResult bad_png_size = run_cli(fmt::format("run {} --input random --save-png mask=x.png --png-size 3by4", model), dir);
  CHECK(bad_png_size.exit_code == 2);
  CHECK(bad_png_size.output.find("--png-size") != std::string::npos);
  const CliResult wrong_shape =
      run_cli(fmt::format("run {} --input input={}", model, (kGolden / "transformer/input_0.npy").string()), dir);
  CHECK(wrong_shape.exit_code == 2);
  fs::remove_all(dir);
}

TEST_CASE("nnc bench --json prints one JSON object with the documented fields; --profile names tactics") {
  const fs::path dir = scratch_dir("bench");
  const std::string model = (kGolden / "cnn/model.onnx").string();
  const CliResult json = run_cli_stdout(fmt::format("bench {} --json --iters 3 --warmup 1 --threads 2", model), dir);
  REQUIRE(json.exit_code == 0);
  // The whole output is one line holding one object.
  CHECK(json.output.front() == '{');
  CHECK(json.output.find('\n') == json.output.size() - 1);
  for (const char* field : {"\"median_ms\": ", "\"min_ms\": ", "\"mean_ms\": ", "\"p90_ms\": ", "\"times_ms\": [",
                            "\"threads\": 2", "\"peak_rss_mb\": "})
    CHECK_MESSAGE(json.output.find(field) != std::string::npos, field);
  const size_t times = json.output.find("\"times_ms\": [");
  const std::string list = json.output.substr(times, json.output.find(']', times) - times);
  CHECK(std::count(list.begin(), list.end(), ',') == 2);  // three timed iterations

  const CliResult profile = run_cli(fmt::format("bench {} --profile --iters 2 --warmup 0", model), dir);
  REQUIRE(profile.exit_code == 0);
  CHECK(profile.output.find("latency     median") != std::string::npos);
  CHECK(profile.output.find("by op type:") != std::string::npos);
  CHECK(profile.output.find("conv.") != std::string::npos);  // some Conv ran on a fast tactic
  CHECK(run_cli(fmt::format("bench {} --iters 0", model), dir).exit_code == 2);
  fs::remove_all(dir);
}

TEST_CASE("nnc compile --tactics: every tuned node lists the reference and its candidates, one chosen") {
  const fs::path dir = scratch_dir("tactics");
  const CliResult r = run_cli(fmt::format("compile {} --tactics", (kGolden / "cnn/model.onnx").string()), dir);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("tactics (median ms on the node's shapes; * chosen, c chosen from the timing cache):") != std::string::npos);
  CHECK(r.output.find("reference") != std::string::npos);
  CHECK(r.output.find("conv.im2col-gemm") != std::string::npos);
  CHECK(r.output.find("    * ") != std::string::npos);
  // --no-tune: reference kernels throughout, and no tuning line.
  const CliResult untuned = run_cli(fmt::format("compile {} --no-tune", (kGolden / "cnn/model.onnx").string()), dir);
  REQUIRE(untuned.exit_code == 0);
  CHECK(untuned.output.find("tuning:") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc compile --timing-cache: the second compile reuses every tuning result") {
  const fs::path dir = scratch_dir("cache");
  const std::string command = fmt::format("compile {} --timing-cache {}", (kGolden / "cnn/model.onnx").string(),
                                          (dir / "cache.txt").string());
  REQUIRE(run_cli(command, dir).exit_code == 0);
  REQUIRE(fs::exists(dir / "cache.txt"));
  const CliResult second = run_cli(command, dir);
  REQUIRE(second.exit_code == 0);
  const size_t line = second.output.find("tuning: ");
  REQUIRE(line != std::string::npos);
  const std::string summary = second.output.substr(line, second.output.find('\n', line) - line);
  // "... of N tunable nodes ... N reused from the timing cache"
  const size_t of = summary.find(" of "), tunable = summary.find(" tunable");
  const std::string total = summary.substr(of + 4, tunable - of - 4);
  CHECK(summary.find(", " + total + " reused from the timing cache") != std::string::npos);
  fs::remove_all(dir);
}
