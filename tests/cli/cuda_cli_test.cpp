// The GPU path of the command line, on the CUDA emulator (no GPU needed): --device emulator
// puts the golden CNN's nodes on the "GPU", the plan records it, running the plan gives
// PyTorch's outputs, bench reports the copies; and the errors: --device cuda without a GPU,
// an unknown --device.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/compare.h"
#include "core/npy.h"
#include "run_cli.h"

using namespace nnc;
using nnc::testing::CliResult;
using nnc::testing::run_cli;
using nnc::testing::scratch_dir;
namespace fs = std::filesystem;

TEST_CASE("nnc --device emulator: the golden CNN on the emulated GPU, through a plan, matches PyTorch") {
  const fs::path dir = scratch_dir("cuda");
  const fs::path golden = fs::path(NNC_SOURCE_DIR) / "tests/data/golden/cnn";
  const std::string plan = (dir / "cnn.nncplan").string();
  const CliResult compiled =
      run_cli(fmt::format("compile {} --device emulator --tactics -o {}", (golden / "model.onnx").string(), plan), dir);
  REQUIRE(compiled.exit_code == 0);
  CHECK(compiled.output.find("on the GPU: CUDA emulator (CPU threads)") != std::string::npos);
  CHECK(compiled.output.find("* cuda.conv.simt-implicit-gemm") != std::string::npos);

  const CliResult inspected = run_cli("inspect " + plan, dir);
  CHECK(inspected.output.find("gpu            CUDA emulator (CPU threads)") != std::string::npos);

  const CliResult ran =
      run_cli(fmt::format("run {} --input input={} --save-outputs {}", plan, (golden / "input_0.npy").string(),
                          (dir / "out").string()),
              dir);
  REQUIRE(ran.exit_code == 0);
  const fs::path saved = *fs::directory_iterator(dir / "out");
  const Difference d = compare(read_npy(saved), read_npy(golden / "output_0.npy"));
  INFO("rel L2 " << d.rel_l2 << ", max abs " << d.max_abs);
  CHECK(d.rel_l2 < 1e-4);

  const CliResult bench = run_cli(fmt::format("bench {} --iters 2 --warmup 0", plan), dir);
  REQUIRE(bench.exit_code == 0);
  CHECK(bench.output.find("gpu copies  H2D") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc --device: cuda without a GPU is a runtime error, an unknown device a usage error") {
  const fs::path dir = scratch_dir("cuda_errors");
  const std::string model = (fs::path(NNC_SOURCE_DIR) / "tests/data/golden/cnn/model.onnx").string();
  const CliResult cuda = run_cli("compile " + model + " --device cuda", dir);
  if (cuda.exit_code == 0) {
    MESSAGE("this machine has a GPU: --device cuda compiled for it");
  } else {
    CHECK(cuda.exit_code == 1);
    CHECK(cuda.output.find("--device cuda: ") != std::string::npos);
  }
  const CliResult bogus = run_cli("compile " + model + " --device tpu", dir);
  CHECK(bogus.exit_code == 2);
  CHECK(bogus.output.find("--device must be cpu, cuda, auto or emulator, got 'tpu'") != std::string::npos);
  fs::remove_all(dir);
}
