// tools/cli/conformance.cpp — `nnc conformance`: ONNX's backend test data as our first judge.
//
// For every test directory (model.onnx + test_data_set_*/input_*.pb, output_*.pb) in Debian's
// libonnx-testdata: import, run with the reference kernels, compare at ONNX's tolerances
// (rtol 1e-3, atol 1e-7, NaN equal). Results: pass, fail, unsupported (the model uses something
// nnc refuses with an Unsupported error), and xfail (a failure listed with its reason in the
// expected-failures file). The run fails only on unexpected failures.
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "backends/cpu/tuner.h"
#include "core/compare.h"
#include "importers/onnx/onnx_importer.h"
#include "importers/onnx/tensor_proto.h"
#include "ops/interpreter.h"
#include "tools/cli/commands.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

constexpr const char* kDefaultData = "/usr/share/libonnx-testdata/data";
constexpr const char* kSuites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};

enum class Outcome { Pass, Fail, Unsupported, ExpectedFail };

struct Result {
  Outcome outcome;
  std::string detail;
};

std::vector<fs::path> sorted_files(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".pb"))
      files.emplace_back(std::atoi(name.c_str() + prefix.size()), entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<fs::path> out;
  for (auto& [index, path] : files) out.push_back(path);
  return out;
}

// ONNX 1.12's test data stores bfloat16 tensors as UINT16 bit patterns; read them as bf16 where
// the model expects bf16.
Tensor as_bfloat16_if(const Tensor& t, DType wanted) {
  if (wanted != DType::BF16 || t.dtype() != DType::U16) return t;
  Tensor out(DType::BF16, t.dims());
  std::memcpy(out.bytes(), t.bytes(), t.nbytes());
  return out;
}

Result run_test(const fs::path& dir, bool tactics) {
  std::vector<fs::path> data_sets;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_directory() && entry.path().filename().string().starts_with("test_data_set_"))
      data_sets.push_back(entry.path());
  std::sort(data_sets.begin(), data_sets.end());
  if (data_sets.empty()) return {Outcome::Fail, "no test_data_set_* directory"};
  try {
    // Fix input shapes from the first data set so shape subgraphs fold as in a real deployment.
    // Import first: a model whose inputs are sequences or optionals is refused as Unsupported
    // before its (non-tensor) input files are read.
    Graph probe = import_onnx_file(dir / "model.onnx", {.fold_constants = false});
    std::vector<Tensor> first_inputs;
    for (const fs::path& p : sorted_files(data_sets[0], "input_")) first_inputs.push_back(onnx_import::read_tensor_proto_file(p));
    ImportOptions options;
    for (size_t i = 0; i < probe.inputs.size() && i < first_inputs.size(); ++i)
      options.input_shapes[probe.value(probe.inputs[i]).name] = first_inputs[i].dims();
    const Graph graph = import_onnx_file(dir / "model.onnx", options);
    // With --kernels tactics, every node a fast CPU tactic can run runs on it (checked by the
    // tuner against the reference kernel on random inputs, and here against ONNX's outputs).
    cpu::TuningResult tuning;
    bool all_known = true;
    for (const Value& v : graph.values) all_known = all_known && (v.kind == ValueKind::Outer || v.type.shape.fully_known());
    if (tactics && all_known) tuning = cpu::tune(graph, {.runs = 1, .prefer_tactics = true});
    const std::vector<const NodeKernel*> kernels = tuning.kernel_pointers();
    if (!tuning.warnings.empty()) return {Outcome::Fail, tuning.warnings[0]};

    for (const fs::path& set : data_sets) {
      std::vector<Tensor> inputs;
      for (const fs::path& p : sorted_files(set, "input_")) inputs.push_back(onnx_import::read_tensor_proto_file(p));
      std::vector<Tensor> expected;
      for (const fs::path& p : sorted_files(set, "output_")) expected.push_back(onnx_import::read_tensor_proto_file(p));
      if (inputs.size() != graph.inputs.size())
        return {Outcome::Fail, fmt::format("{} inputs in the data but the graph has {}", inputs.size(), graph.inputs.size())};
      for (size_t i = 0; i < inputs.size(); ++i) inputs[i] = as_bfloat16_if(inputs[i], graph.type(graph.inputs[i]).dtype);
      InterpreterOptions run_options;
      run_options.kernels = kernels;
      const std::vector<Tensor> outputs = run_reference(graph, inputs, run_options);
      if (outputs.size() != expected.size())
        return {Outcome::Fail, fmt::format("{} outputs but {} expected", outputs.size(), expected.size())};
      for (size_t i = 0; i < outputs.size(); ++i) {
        expected[i] = as_bfloat16_if(expected[i], outputs[i].dtype());
        const std::string why = explain_mismatch(outputs[i], expected[i], 1e-3, 1e-7);
        if (!why.empty())
          return {Outcome::Fail, fmt::format("{}: output {} ('{}'): {}", set.filename().string(), i,
                                             graph.value(graph.outputs[i]).name, why)};
      }
    }
    std::string used;  // the tactics that ran, so a PASS line shows what it proved
    for (const NodeKernel* k : kernels)
      if (k && used.find(k->tactic()) == std::string::npos) used += (used.empty() ? "" : ", ") + std::string(k->tactic());
    return {Outcome::Pass, used};
  } catch (const Error& e) {
    std::string message = e.what();
    if (const size_t newline = message.find('\n'); newline != std::string::npos) {
      // Keep multi-line reports on one line in the listing.
      for (char& c : message) if (c == '\n') c = ';';
    }
    return {e.kind() == ErrorKind::Unsupported ? Outcome::Unsupported : Outcome::Fail, message};
  } catch (const std::exception& e) {
    return {Outcome::Fail, fmt::format("internal error: {}", e.what())};
  }
}

// "test_name  reason" per line; '#' starts a comment.
std::map<std::string, std::string> read_expected_failures(const fs::path& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  if (!in) bad_input("{}: cannot open the expected-failures file", path.string());
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find_first_of(" \t");
    const std::string name = line.substr(0, space);
    std::string reason = space == std::string::npos ? "" : line.substr(line.find_first_not_of(" \t", space));
    if (reason.empty()) bad_input("{}: '{}' has no reason; every expected failure must say why", path.string(), name);
    out[name] = reason;
  }
  return out;
}

}  // namespace

int cmd_conformance(const std::vector<std::string>& argv) {
  const Args args(argv, {"--verbose", "-v", "--quiet"}, {"--suite", "--filter", "--data", "--expected-failures", "--kernels"});
  if (args.help()) {
    fmt::print(
        "usage: nnc conformance [--suite node|pytorch-converted|pytorch-operator|simple|all] [--filter REGEX]\n"
        "                       [--data DIR] [--expected-failures FILE] [--kernels reference|tactics] [--quiet]\n\n"
        "Runs ONNX's backend test data (default {}) through the reference kernels (or, with\n"
        "--kernels tactics, through the fast CPU tactics wherever one can run a node) and compares\n"
        "with ONNX's outputs (rtol 1e-3, atol 1e-7, NaN equal). Prints PASS / FAIL / UNSUPPORTED / XFAIL\n"
        "per test, then one line per suite: `node: P passed, F failed, U unsupported (of T)`.\n"
        "Exit code 1 if any test fails that the expected-failures file does not list.\n",
        kDefaultData);
    return 0;
  }
  if (!args.positionals().empty()) usage_error("nnc conformance takes no positional arguments");
  const std::string suite = args.get("--suite", "node");
  std::vector<std::string> suites;
  if (suite == "all") suites.assign(std::begin(kSuites), std::end(kSuites));
  else if (std::find(std::begin(kSuites), std::end(kSuites), suite) != std::end(kSuites)) suites.push_back(suite);
  else usage_error("--suite must be node, pytorch-converted, pytorch-operator, simple or all; got '{}'", suite);

  std::regex filter;
  try {
    filter = std::regex(args.get("--filter", ""));
  } catch (const std::regex_error& e) {
    usage_error("--filter is not a valid regular expression: {}", e.what());
  }
  const fs::path data = args.get("--data", kDefaultData);
  if (!fs::is_directory(data))
    bad_input("{}: ONNX test data not found; install Debian's libonnx-testdata or pass --data DIR", data.string());
  std::map<std::string, std::string> expected_failures;
  if (args.has("--expected-failures")) expected_failures = read_expected_failures(args.get("--expected-failures"));
  const bool quiet = args.flag("--quiet");
  const std::string kernels = args.get("--kernels", "reference");
  if (kernels != "reference" && kernels != "tactics") usage_error("--kernels is reference or tactics, got '{}'", kernels);
  const bool tactics = kernels == "tactics";

  int unexpected = 0;
  std::vector<std::string> summaries;
  for (const std::string& name : suites) {
    const fs::path dir = data / name;
    if (!fs::is_directory(dir)) bad_input("{}: suite directory not found", dir.string());
    std::vector<fs::path> tests;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_directory() && std::regex_search(entry.path().filename().string(), filter)) tests.push_back(entry.path());
    std::sort(tests.begin(), tests.end());
    int passed = 0, failed = 0, unsupported = 0, xfailed = 0;
    for (const fs::path& test : tests) {
      const std::string test_name = test.filename().string();
      Result r = run_test(test, tactics);
      const auto listed = expected_failures.find(test_name);
      if (r.outcome == Outcome::Fail && listed != expected_failures.end()) r.outcome = Outcome::ExpectedFail;
      switch (r.outcome) {
        case Outcome::Pass:
          ++passed;
          if (!quiet) fmt::print("PASS         {}{}\n", test_name, r.detail.empty() ? "" : " (" + r.detail + ")");
          if (listed != expected_failures.end())
            fmt::print("note: {} passes but is listed as an expected failure; remove it from the list\n", test_name);
          break;
        case Outcome::Fail:
          ++failed;
          ++unexpected;
          fmt::print("FAIL         {}: {}\n", test_name, r.detail);
          break;
        case Outcome::ExpectedFail:
          ++failed;
          ++xfailed;
          if (!quiet) fmt::print("XFAIL        {}: {} (expected: {})\n", test_name, r.detail, listed->second);
          break;
        case Outcome::Unsupported:
          ++unsupported;
          if (!quiet) fmt::print("UNSUPPORTED  {}: {}\n", test_name, r.detail);
          break;
      }
    }
    summaries.push_back(fmt::format("{}: {} passed, {} failed, {} unsupported (of {}){}", name, passed, failed,
                                    unsupported, tests.size(),
                                    xfailed ? fmt::format("; {} of the failures are expected", xfailed) : ""));
  }
  for (const std::string& s : summaries) fmt::print("{}\n", s);
  if (unexpected) fmt::print("{} unexpected failure{}\n", unexpected, unexpected == 1 ? "" : "s");
  return unexpected ? 1 : 0;
}

}  // namespace nnc::cli
