// tools/cli/pipeline_flags.cpp — see pipeline_flags.h.
#include "tools/cli/pipeline_flags.h"

#include <cstdlib>

#include "backends/cuda/tactics.h"

namespace nnc::cli {

const std::set<std::string> kPipelineFlags = {"-O0", "-O1", "-O2", "-O3", "--verify-passes", "--no-tune", "--fp16"};
const std::set<std::string> kPipelineOptions = {"--passes", "--disable-pass", "--dump-passes", "--explain",
                                                "--input-shape", "--threads", "--timing-cache", "--device"};
const char* const kPipelineHelp =
    "  -O0..-O3              optimisation level (default -O2; -O0 runs the graph as imported)\n"
    "  --passes A,B,C        run exactly these passes, in this order (see nnc compile --list-passes)\n"
    "  --disable-pass NAME   skip a pass (repeatable)\n"
    "  --dump-passes DIR     write DIR/NN-<pass>.nnc and .dot after every pass that changed the graph,\n"
    "                        and DIR/summary.txt\n"
    "  --explain PASS        print the IR lines PASS removed and added, and every rewrite and refusal\n"
    "  --verify-passes       after every pass, run the graph on seeded random inputs and stop if it\n"
    "                        drifts from the unoptimised graph (rel L2 > 1e-4)\n"
    "  --input-shape NAME:DxD...  fix symbolic input dims (repeatable)\n"
    "  --threads N           threads for the CPU kernels (default: all cores this process may use)\n"
    "  --no-tune             skip autotuning: every node runs its reference kernel\n"
    "  --timing-cache FILE   reuse tuning results from FILE and add new ones to it (created if absent)\n"
    "  --device cpu|cuda|auto  where nodes run: cpu; cuda (every node a GPU kernel can run runs on the\n"
    "                        GPU, the rest on the CPU; an error without a GPU); auto (default: the GPU's\n"
    "                        tactics compete with the CPU's by time, transfers included, when there is a GPU);\n"
    "                        emulator (as cuda, on the CUDA emulator: slow, to watch the GPU path without one)\n"
    "  --fp16                let f16 Tensor-Core tactics compete (checked within 2e-3 instead of 1e-4)\n";

std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b) {
  a.insert(b.begin(), b.end());
  return a;
}

namespace {

// "name:1x3x320x320" (repeatable) -> {"name": {1,3,320,320}}.
std::map<std::string, Dims> parse_input_shapes(const std::vector<std::string>& specs) {
  std::map<std::string, Dims> out;
  for (const std::string& spec : specs) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
      usage_error("--input-shape expects NAME:DxDxD (e.g. input:1x3x320x320), got '{}'", spec);
    Dims dims;
    std::string rest = spec.substr(colon + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      const size_t x = rest.find('x', start);
      const std::string part = rest.substr(start, x == std::string::npos ? std::string::npos : x - start);
      char* end = nullptr;
      const long long d = std::strtoll(part.c_str(), &end, 10);
      if (part.empty() || *end != 0 || d < 0 || d > (1ll << 40)) usage_error("--input-shape: bad dimension '{}' in '{}'", part, spec);
      dims.push_back(d);
      if (x == std::string::npos) break;
      start = x + 1;
    }
    out[spec.substr(0, colon)] = dims;
  }
  return out;
}


std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

LoadOptions load_options(const Args& args) {
  LoadOptions options;
  options.input_shapes = parse_input_shapes(args.all("--input-shape"));
  for (int level = 0; level <= 3; ++level)
    if (args.flag(fmt::format("-O{}", level))) options.passes.level = level;
  for (const std::string& list : args.all("--passes"))
    for (const std::string& name : split_commas(list)) options.passes.only.push_back(name);
  const std::vector<std::string>& disabled = args.all("--disable-pass");
  options.passes.disabled = std::set<std::string>(disabled.begin(), disabled.end());
  options.passes.dump_dir = args.get("--dump-passes");
  options.passes.explain = args.get("--explain");
  options.passes.verify_numerics = args.flag("--verify-passes");
  options.fold_constants = options.passes.runs_any_pass();
  options.tune = !args.flag("--no-tune");
  options.tuning.cache_file = args.get("--timing-cache");
  if (args.has("--threads")) set_thread_count(args.get_int("--threads", 0, 1, 256));
  const std::string device = args.has("--device") ? args.get("--device") : "auto";
  select_device(device, args.flag("--fp16"));
  if (device == "cuda" || device == "emulator") options.tuning.exclusive_prefix = "cuda.";
  return options;
}

void select_device(const std::string& device, bool allow_f16) {
  if (device != "cpu" && device != "cuda" && device != "auto" && device != "emulator")
    usage_error("--device must be cpu, cuda, auto or emulator, got '{}'", device);
  if (device == "cpu") {
    cuda::use_device({});
    return;
  }
  if (device == "emulator") {
    cuda::use_device({cuda::emulated_device(), allow_f16});
    return;
  }
  std::string why_not;
  std::shared_ptr<cuda::Device> gpu = cuda::native_device(&why_not);
  if (!gpu && device == "cuda") fail(ErrorKind::Runtime, "--device cuda: {}", why_not);
  if (!gpu) {
    static bool said = false;  // once per process
    if (!said) fmt::print(stderr, "nnc: no GPU ({}): running on the CPU\n", why_not);
    said = true;
  }
  cuda::use_device({gpu, allow_f16});
}

LoadOptions imported_options(const LoadOptions& options) {
  LoadOptions o0;
  o0.passes.level = 0;
  o0.tune = false;
  o0.plan_memory = false;
  o0.input_shapes = options.input_shapes;
  o0.fold_constants = options.fold_constants;
  return o0;
}

}  // namespace nnc::cli
