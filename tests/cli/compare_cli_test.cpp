// Trust and debugging from the command line: `nnc compare` on models we did not write
// (torchvision's squeezenet) and on U2NETP, plans that are byte-identical from one compile to
// the next and name their source by SHA-256, and --bisect-passes on a healthy pipeline.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "core/compare.h"
#include "core/npy.h"
#include "core/sha256.h"
#include "run_cli.h"

using namespace nnc;
using nnc::testing::CliResult;
using nnc::testing::run_cli;
using nnc::testing::scratch_dir;
namespace fs = std::filesystem;

namespace {

const fs::path kGolden = fs::path(NNC_SOURCE_DIR) / "tests/data/golden";


std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every number after "key": in a JSON text.
std::vector<double> json_numbers(const std::string& json, const std::string& key) {
  std::vector<double> out;
  const std::regex pattern("\"" + key + "\":\\s*(-?[0-9.eE+-]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), pattern); it != std::sregex_iterator(); ++it)
    out.push_back(std::stod((*it)[1]));
  return out;
}

// `nnc compare MODEL --json --tol T` on the golden input: every tensor within T, none diverging;
// returns the JSON.
std::string expect_plan_matches_reference(const std::string& model, const fs::path& dir, double tolerance) {
  const CliResult r = run_cli(fmt::format("compare {} --input {} --json --tol {} --timing-cache {}",
                                          (kGolden / model / "model.onnx").string(),
                                          (kGolden / model / "input_0.npy").string(), tolerance,
                                          (dir / "cache.txt").string()),
                              dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const std::string json = r.output.substr(r.output.rfind("{\"model\""));
  const std::vector<double> rel = json_numbers(json, "rel_l2");
  MESSAGE(model << ": " << rel.size() << " tensors compared, worst rel L2 " << (rel.empty() ? 0.0 : rel.front()));
  CHECK(rel.size() > 20);
  for (double v : rel) CHECK(v <= tolerance);
  for (double c : json_numbers(json, "cosine")) CHECK(c > 0.9999);
  CHECK(json.find("\"first_divergence\":null") != std::string::npos);
  // Fused nodes name every ONNX node they came from.
  CHECK(std::regex_search(json, std::regex("\"onnx_nodes\":\\[\"[^\"]+\",\"[^\"]+\"")));
  return json;
}

}  // namespace

TEST_CASE("nnc compare: torchvision's squeezenet1_1, optimised and tuned, matches its unoptimised graph tensor by tensor") {
  const fs::path dir = scratch_dir("squeezenet");
  expect_plan_matches_reference("squeezenet1_1", dir, 1e-4);
  fs::remove_all(dir);
}

TEST_CASE("nnc compare: U2NETP's plan matches its unoptimised graph; the last pass dump names every fused node's sources") {
  const fs::path dir = scratch_dir("u2netp");
  // Deep inside the last decoder (its inner RSU at 10x10, after five poolings and some hundred
  // layers) fp32 rounding alone moves tensors by 1e-4: folding the BatchNorms, with reference
  // kernels throughout, already does (measured 1.06e-4); Winograd F(4x4) doubles it (1.9e-4). The
  // seven outputs stay within 1e-4.
  const std::string json = expect_plan_matches_reference("u2netp", dir, 5e-4);
  for (int k = 0; k < 7; ++k) {
    std::smatch m;
    const std::regex output("\"name\":\"d" + std::to_string(k) + "\"[^}]*\"rel_l2\":([0-9.eE+-]+)");
    REQUIRE(std::regex_search(json, m, output));
    CHECK(std::stod(m[1]) <= 1e-4);
  }
  const CliResult r = run_cli(fmt::format("compile {} --no-tune --dump-passes {}",
                                          (kGolden / "u2netp/model.onnx").string(), (dir / "dumps").string()),
                              dir);
  REQUIRE(r.exit_code == 0);
  std::vector<fs::path> dumps;
  for (const auto& e : fs::directory_iterator(dir / "dumps"))
    if (e.path().extension() == ".nnc") dumps.push_back(e.path());
  std::sort(dumps.begin(), dumps.end());
  REQUIRE(!dumps.empty());
  std::ifstream last(dumps.back());
  int convs = 0, with_sources = 0;
  for (std::string line; std::getline(last, line);) {
    if (line.find("= Conv ") == std::string::npos && line.find("= Conv  ") == std::string::npos) continue;
    ++convs;
    // Conv + BatchNormalization + Relu: "# from <conv>, <bn>, <relu>"
    const size_t from = line.find("# from ");
    if (from != std::string::npos && std::count(line.begin() + long(from), line.end(), ',') >= 2) ++with_sources;
  }
  CHECK(convs == 119);
  CHECK(with_sources >= 112);  // every Conv that absorbed its BN and ReLU
  fs::remove_all(dir);
}

TEST_CASE("plans: two compiles with one timing cache give identical bytes; inspect shows the source's SHA-256") {
  const fs::path dir = scratch_dir("determinism");
  const fs::path model = kGolden / "cnn/model.onnx";
  for (const char* name : {"a.nncplan", "b.nncplan"})
    REQUIRE(run_cli(fmt::format("compile {} --timing-cache {} -o {}", model.string(), (dir / "cache.txt").string(),
                                (dir / name).string()),
                    dir)
                .exit_code == 0);
  const std::string a = read_file(dir / "a.nncplan"), b = read_file(dir / "b.nncplan");
  REQUIRE(a.size() > 32);
  CHECK(a == b);

  const CliResult inspect = run_cli("inspect " + (dir / "a.nncplan").string(), dir);
  INFO(inspect.output);
  REQUIRE(inspect.exit_code == 0);
  FILE* pipe = popen(("sha256sum " + model.string()).c_str(), "r");
  REQUIRE(pipe);
  char digest[65] = {};
  REQUIRE(fread(digest, 1, 64, pipe) == 64);
  pclose(pipe);
  CHECK(inspect.output.find(std::string("source_sha256  ") + digest) != std::string::npos);
  CHECK(inspect.output.find("options        -O2") != std::string::npos);

  // compare runs the plan file as written: the checksum it prints is the header's.
  uint32_t header_checksum;
  std::memcpy(&header_checksum, a.data() + 24, sizeof header_checksum);
  const CliResult compare = run_cli(fmt::format("compare {} --json", (dir / "a.nncplan").string()), dir);
  INFO(compare.output);
  CHECK(compare.exit_code == 0);
  CHECK(compare.output.find(fmt::format("\"plan_checksum\":\"0x{:08x}\"", header_checksum)) != std::string::npos);
  // ... and compiling in memory, as compare does for an ONNX model, gives the same checksum.
  const CliResult in_memory =
      run_cli(fmt::format("compare {} --json --timing-cache {}", model.string(), (dir / "cache.txt").string()), dir);
  CHECK(in_memory.output.find(fmt::format("\"plan_checksum\":\"0x{:08x}\"", header_checksum)) != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc compare: --bisect-passes on a healthy pipeline, --against O0, and mistakes that exit 2") {
  const fs::path dir = scratch_dir("bisect");
  const std::string model = (kGolden / "cnn/model.onnx").string();
  const CliResult bisect = run_cli(fmt::format("compare {} --bisect-passes --dump-dir {}", model, (dir / "b").string()), dir);
  INFO(bisect.output);
  CHECK(bisect.exit_code == 0);
  CHECK(bisect.output.find("keep the outputs within") != std::string::npos);

  const CliResult o0 = run_cli(fmt::format("compare {} --against O0", model), dir);
  INFO(o0.output);
  CHECK(o0.exit_code == 0);
  CHECK(o0.output.find("0 beyond the tolerance") != std::string::npos);

  const CliResult wrong = run_cli(fmt::format("compare {} --against onnxruntime", model), dir);
  CHECK(wrong.exit_code == 2);
  CHECK(wrong.output.find("--against takes onnx or O0") != std::string::npos);

  // A plan whose source model is gone: compare says so instead of guessing.
  REQUIRE(fs::copy_file(model, dir / "m.onnx"));
  REQUIRE(run_cli(fmt::format("compile {} -o {} --no-tune", (dir / "m.onnx").string(), (dir / "m.nncplan").string()), dir)
              .exit_code == 0);
  fs::remove(dir / "m.onnx");
  const CliResult gone = run_cli(fmt::format("compare {}", (dir / "m.nncplan").string()), dir);
  CHECK(gone.exit_code == 2);
  CHECK(gone.output.find("--source FILE") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("memory: compile reports static memory; bench's peak RSS stays flat from 20 to 1000 iterations") {
  const fs::path dir = scratch_dir("memory");
  const std::string model = (kGolden / "cnn/model.onnx").string();
  const CliResult compile = run_cli("compile " + model, dir);
  INFO(compile.output);
  REQUIRE(compile.exit_code == 0);
  CHECK(std::regex_search(compile.output, std::regex("static memory: weights [0-9.]+ MiB, activations [0-9.]+ MiB \\(arena\\)")));
  auto peak = [&](int iterations) {
    const CliResult r = run_cli(fmt::format("bench {} --iters {} --json --timing-cache {}", model, iterations,
                                            (dir / "cache.txt").string()),
                                dir);
    REQUIRE(r.exit_code == 0);
    const std::vector<double> mb = json_numbers(r.output, "peak_rss_mb");
    REQUIRE(mb.size() == 1);
    return mb[0];
  };
  const double short_run = peak(20), long_run = peak(1000);
  MESSAGE("peak RSS after 20 iterations " << short_run << " MB, after 1000 " << long_run << " MB");
  CHECK(long_run <= short_run * 1.05 + 1.0);
  fs::remove_all(dir);
}

TEST_CASE("nnc run --dump-tensor: takes ONNX node names; a node a pass fused away is an error naming the pass") {
  const fs::path dir = scratch_dir("dump");
  const std::string run = fmt::format("run {} --input {}", (kGolden / "cnn/model.onnx").string(),
                                      (kGolden / "cnn/input_0.npy").string());
  // The same ONNX node dumped from the optimised plan and from the graph as imported agree.
  for (const char* level : {"-O2", "-O0"}) {
    const CliResult r = run_cli(fmt::format("{} {} --dump-tensor /stem/stem.2/Relu --save-outputs {}/{}", run, level,
                                            dir.string(), level),
                                dir);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
  }
  const Tensor optimised = read_npy(dir / "-O2/stem.stem.2.Relu.npy"), imported = read_npy(dir / "-O0/stem.stem.2.Relu.npy");
  REQUIRE(optimised.dims() == imported.dims());
  CHECK(optimised.numel() == 16 * 33 * 47);
  CHECK(compare(optimised, imported).rel_l2 < 1e-5);

  const CliResult fused = run_cli(run + " --dump-tensor /stem/stem.0/Conv", dir);
  INFO(fused.output);
  CHECK(fused.exit_code == 2);
  CHECK(fused.output.find("pass 'fold-batchnorm' fused it into the node from /stem/stem.0/Conv, "
                          "/stem/stem.1/BatchNormalization, /stem/stem.2/Relu") != std::string::npos);
  CHECK(fused.output.find("--dump-tensor /stem/stem.2/Relu for that, or --disable-pass fold-batchnorm") !=
        std::string::npos);
  // With that pass disabled the Conv's own output exists again.
  CHECK(run_cli(run + " --dump-tensor /stem/stem.0/Conv --disable-pass fold-batchnorm --save-outputs " + dir.string(), dir)
            .exit_code == 0);
  CHECK(fs::exists(dir / "stem.stem.0.Conv.npy"));

  const CliResult unknown = run_cli(run + " --dump-tensor /no/such/Node", dir);
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.output.find("no node of that name") != std::string::npos);
  fs::remove_all(dir);
}
