// `nnc quantize` end to end: U2NETP (trained) calibrated on four bundled photos and measured on
// two others, every calibration method and option on a small CNN, and the mistakes that must
// exit with 2.
#include <doctest/doctest.h>

#include <filesystem>
#include <regex>

#include "core/compare.h"
#include "core/npy.h"
#include "run_cli.h"

using namespace nnc;
using nnc::testing::CliResult;
using nnc::testing::run_cli;
using nnc::testing::scratch_dir;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const std::string kImageNet = "--mean 0.485,0.456,0.406 --std 0.229,0.224,0.225";

// "mean_abs": X of output `name` in the report's JSON.
double output_mean_abs(const std::string& json, const std::string& name) {
  const std::regex pattern("\\{\"name\": \"" + name + "\", \"rel_l2\": [^,]+, \"max_abs\": [^,]+, \"mean_abs\": ([0-9.e+-]+)\\}");
  std::smatch m;
  REQUIRE(std::regex_search(json, m, pattern));
  return std::stod(m[1]);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("nnc quantize --cle --bias-correction: equalizes U2NETP's Conv chains, corrects biases, records both") {
  const fs::path dir = scratch_dir("quantize_cle");
  fs::create_directories(dir / "eval");
  for (const char* photo : {"chelsea.png", "coffee.png"}) fs::copy_file(kSource / "models/samples" / photo, dir / "eval" / photo);
  const std::string plan = (dir / "int8.nncplan").string();
  const CliResult r = run_cli(fmt::format("quantize {} --calib {} {} -o {} --cle --bias-correction --report --eval {} --json {} "
                                          "--timing-cache {}",
                                          (kSource / "models/u2net/u2netp.onnx").string(), (kSource / "tests/data/calib").string(),
                                          kImageNet, plan, (dir / "eval").string(), (dir / "report.json").string(),
                                          (dir / "timing.cache").string()),
                              dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("equalize-cross-layer   equalized ") != std::string::npos);
  CHECK(output_mean_abs(read_text(dir / "report.json"), "d0") < 0.01);
  const CliResult inspected = run_cli("inspect " + plan, dir);
  CHECK(inspected.output.find(" bias_correction ") != std::string::npos);
  CHECK(inspected.output.find(" cle") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc quantize: U2NETP calibrated on four photos gives masks within 0.01 of f32 on two others") {
  const fs::path dir = scratch_dir("quantize_u2netp");
  fs::create_directories(dir / "eval");
  for (const char* photo : {"chelsea.png", "coffee.png"}) fs::copy_file(kSource / "models/samples" / photo, dir / "eval" / photo);
  const std::string model = (kSource / "models/u2net/u2netp.onnx").string();
  const std::string cache = "--timing-cache " + (dir / "timing.cache").string();  // tune each layer once
  const CliResult r = run_cli(fmt::format("quantize {} --calib {} {} -o {} --report --eval {} --json {} {}", model,
                                          (kSource / "tests/data/calib").string(), kImageNet, (dir / "int8.nncplan").string(),
                                          (dir / "eval").string(), (dir / "report.json").string(), cache),
                              dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("calibrating on 4 inputs (minmax)") != std::string::npos);
  CHECK(r.output.find("Conv run in INT8") != std::string::npos);
  const std::string json = read_text(dir / "report.json");
  for (const char* output : {"d0", "d1", "d2", "d3", "d4", "d5", "d6"}) {
    CAPTURE(output);
    CHECK(output_mean_abs(json, output) < 0.01);
  }
  // Worst layer first.
  const std::regex sqnr("\"sqnr_db\": ([0-9.e+-]+)");
  std::vector<double> values;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), sqnr); it != std::sregex_iterator(); ++it)
    values.push_back(std::stod((*it)[1]));
  CHECK(values.size() > 100);
  CHECK(std::is_sorted(values.begin(), values.end()));

  // The plan runs by itself, and its mask agrees with nnc's f32 mask of the same photo.
  const std::string photo = (dir / "eval/chelsea.png").string();
  REQUIRE(run_cli(fmt::format("run {} --input input={} {} --save-outputs {}", (dir / "int8.nncplan").string(), photo, kImageNet,
                              (dir / "int8").string()),
                  dir)
              .exit_code == 0);
  REQUIRE(run_cli(fmt::format("run {} --input input={} {} --save-outputs {} {}", model, photo, kImageNet, (dir / "f32").string(), cache),
                  dir)
              .exit_code == 0);
  const Tensor int8 = read_npy(dir / "int8/d0.npy"), f32 = read_npy(dir / "f32/d0.npy");
  double sum = 0;
  for (int64_t i = 0; i < f32.numel(); ++i) sum += std::fabs(int8.data<float>()[i] - f32.data<float>()[i]);
  CHECK(sum / double(f32.numel()) < 0.01);
  const CliResult inspect = run_cli("inspect " + (dir / "int8.nncplan").string(), dir);
  CHECK(inspect.output.find("int8=minmax") != std::string::npos);
  CHECK(inspect.output.find("QLinearConv") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc quantize: every calibration method and option quantizes a small CNN whose plan runs") {
  const fs::path dir = scratch_dir("quantize_cnn");
  fs::create_directories(dir / "calib");
  const fs::path golden = kSource / "tests/data/golden/cnn";
  fs::copy_file(golden / "input_0.npy", dir / "calib/a.npy");
  const std::string model = (golden / "model.onnx").string();
  for (const std::string options : {"--method minmax", "--method ema", "--method percentile --percentile 99.9", "--method mse",
                                    "--method entropy", "--symmetric --pow2-scales", "--fixed-point"}) {
    CAPTURE(options);
    const CliResult r = run_cli(fmt::format("quantize {} --calib {} {} -o {} --report --no-tune", model, (dir / "calib").string(),
                                            options, (dir / "q.nncplan").string()),
                                dir);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("plan written to") != std::string::npos);
    CHECK(r.output.find("mask") != std::string::npos);  // the output's error line
    const CliResult run = run_cli(fmt::format("run {} --input input={}", (dir / "q.nncplan").string(), (golden / "input_0.npy").string()), dir);
    CHECK(run.exit_code == 0);
  }
  // nnc compare dequantizes the plan's 8-bit tensors and matches them with the f32 model's.
  const CliResult compare = run_cli(fmt::format("compare {} --tol 1 --input input={}", (dir / "q.nncplan").string(),
                                                (golden / "input_0.npy").string()),
                                    dir);
  INFO(compare.output);
  CHECK(compare.exit_code == 0);
  CHECK(compare.output.find("Relu.q ") != std::string::npos);
  // The plan records what calibrated it.
  CHECK(run_cli("inspect " + (dir / "q.nncplan").string(), dir).output.find("calibration_sha256=") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("nnc quantize --fq-vit: a transformer block's MatMuls, LayerNorms and Softmax run on integers") {
  const fs::path dir = scratch_dir("quantize_fq_vit");
  fs::create_directories(dir / "calib");
  const fs::path golden = kSource / "tests/data/golden/transformer";
  fs::copy_file(golden / "input_0.npy", dir / "calib/a.npy");
  const CliResult r = run_cli(fmt::format("quantize {} --calib {} --fq-vit --no-tune -o {}", (golden / "model.onnx").string(),
                                          (dir / "calib").string(), (dir / "q.nncplan").string()),
                              dir);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("quantized 0 Conv, 6 MatMul, 2 LayerNorm, 1 Softmax") != std::string::npos);
  // fc1's fused Gelu has no integer epilogue: that MatMul computes in f32 on dequantized values.
  CHECK(r.output.find("5 MatMul in INT8, 1 in f32; 2 LayerNorm and 1 Softmax integer-only") != std::string::npos);
  CHECK(run_cli("inspect " + (dir / "q.nncplan").string(), dir).output.find("layernorm-ptf,softmax-log2") != std::string::npos);
  // A MatMul can be kept in f32 by name; a Softmax cannot (it follows --softmax).
  const std::string kept = run_cli(fmt::format("quantize {} --calib {} --keep-float /qkv/MatMul --no-tune -o {}",
                                               (golden / "model.onnx").string(), (dir / "calib").string(),
                                               (dir / "k.nncplan").string()),
                                   dir)
                               .output;
  CHECK(kept.find("4 MatMul in INT8, 2 in f32") != std::string::npos);
  const CliResult softmax = run_cli(fmt::format("quantize {} --calib {} --keep-float /Softmax --no-tune -o {}",
                                                (golden / "model.onnx").string(), (dir / "calib").string(),
                                                (dir / "k.nncplan").string()),
                                    dir);
  CHECK(softmax.exit_code == 2);
  CHECK(softmax.output.find("not a Conv, MatMul or Gemm") != std::string::npos);
  // The plan runs, and its output is near PyTorch's f32 output (4-bit attention weights on a
  // random-weight block, whose attention is flat, cost a few percent).
  const CliResult run = run_cli(fmt::format("run {} --input input={} --save-outputs {}", (dir / "q.nncplan").string(),
                                            (golden / "input_0.npy").string(), (dir / "out").string()),
                                dir);
  INFO(run.output);
  REQUIRE(run.exit_code == 0);
  const Difference c = compare(read_npy(dir / "out/output.npy"), read_npy(golden / "output_0.npy"));
  CHECK(c.rel_l2 < 0.05);
  fs::remove_all(dir);
}

TEST_CASE("nnc quantize --accuracy-budget: moves Convs to f32 until the outputs are within budget") {
  const fs::path dir = scratch_dir("quantize_budget");
  fs::create_directories(dir / "calib");
  const fs::path golden = kSource / "tests/data/golden/cnn";
  fs::copy_file(golden / "input_0.npy", dir / "calib/a.npy");
  const std::string base = fmt::format("quantize {} --calib {} --no-tune -o {} --accuracy-budget ", (golden / "model.onnx").string(),
                                       (dir / "calib").string(), (dir / "q.nncplan").string());
  const CliResult loose = run_cli(base + "1", dir);  // any INT8 error is within 100%
  INFO(loose.output);
  REQUIRE(loose.exit_code == 0);
  CHECK(loose.output.find("round 1:") != std::string::npos);
  CHECK(loose.output.find("round 2:") == std::string::npos);
  CHECK(loose.output.find("0 kept in f32") != std::string::npos);
  // A budget only f32 meets: every Conv goes back, the last round's error is 0.
  const CliResult tight = run_cli(base + "1e-9", dir);
  INFO(tight.output);
  REQUIRE(tight.exit_code == 0);
  CHECK(tight.output.find("to f32:") != std::string::npos);
  CHECK(tight.output.find("0 Conv run in INT8, 4 stay in f32") != std::string::npos);
  CHECK(tight.output.find("budget was not met") == std::string::npos);
  CHECK(run_cli(base + "-1", dir).exit_code == 2);
  // The spelling, `nnc compile --int8 --accuracy-budget X`, is the same command.
  const CliResult compiled = run_cli(fmt::format("compile {} --int8 --calib {} --no-tune -o {} --accuracy-budget 1",
                                                 (golden / "model.onnx").string(), (dir / "calib").string(),
                                                 (dir / "c.nncplan").string()),
                                     dir);
  INFO(compiled.output);
  CHECK(compiled.exit_code == 0);
  CHECK(compiled.output.find("round 1:") != std::string::npos);
  CHECK(fs::exists(dir / "c.nncplan"));
  fs::remove_all(dir);
}

TEST_CASE("nnc quantize: usage and input mistakes exit with 2 and say what is wrong") {
  const fs::path dir = scratch_dir("quantize_bad");
  fs::create_directories(dir / "empty");
  const std::string model = (kSource / "tests/data/golden/cnn/model.onnx").string();
  const std::string calib = (kSource / "tests/data/golden/cnn").string();  // holds input_0.npy and output_0.npy
  struct Case {
    std::string arguments, message;
  };
  const Case cases[] = {
      {model + " -o x.nncplan", "needs --calib"},
      {model + " --calib " + calib + " --method kl -o " + (dir / "q.nncplan").string(), "--method must be"},
      {model + " --calib " + (dir / "empty").string() + " -o " + (dir / "q.nncplan").string(), "no inputs"},
      {model + " --calib " + (dir / "missing").string() + " -o " + (dir / "q.nncplan").string(), "not a directory"},
      {model + " --calib " + calib + " -o " + (dir / "q.onnx").string(), "must name a .nncplan"},
      {model + " --calib " + calib + " --percentile 12 -o " + (dir / "q.nncplan").string(), "--percentile must be"},
      {model + " --calib " + calib + " -O0 -o " + (dir / "q.nncplan").string(), "not -O0"},
      {model + " --calib " + calib + " -o " + (dir / "q.nncplan").string(), "the model wants"},  // output_0.npy: wrong shape
      {model + " --calib " + calib + " --keep-float nope -o " + (dir / "q.nncplan").string(), "matches no node"},
      {model + " --calib " + calib + " --json r.json -o " + (dir / "q.nncplan").string(), "add --report"},
      {model + " --calib " + calib + " --layernorm fp16 -o " + (dir / "q.nncplan").string(), "--layernorm must be f32, int8 or ptf"},
      {model + " --calib " + calib + " --softmax log -o " + (dir / "q.nncplan").string(), "--softmax must be f32, int8 or log2"},
      {model + " --calib " + calib + " --keep-float /Relu -o " + (dir / "q.nncplan").string(),
       "fused that node into node '/dilated/Conv' (Conv); name the node that remains: --keep-float /dilated/Conv"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.arguments);
    const CliResult r = run_cli("quantize " + c.arguments, dir);
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(c.message) != std::string::npos);
  }
  fs::remove_all(dir);
}
