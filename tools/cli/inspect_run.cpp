// tools/cli/inspect_run.cpp — `nnc inspect` and `nnc run`.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "core/api.h"
#include "core/ir_text.h"
#include "core/npy.h"
#include "core/plan_file.h"
#include "importers/onnx/tensor_proto.h"
#include "models/image_io.h"
#include "models/input_files.h"
#include "ops/cost.h"
#include "tools/cli/commands.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

std::string human_count(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.2f} K", v / 1e3);
  return fmt::format("{:.0f}", v);
}

std::array<float, 3> parse_triple(const std::string& option, const std::string& text) {
  std::array<float, 3> out{};
  int count = 0;
  size_t start = 0;
  while (start <= text.size() && count < 4) {
    const size_t comma = text.find(',', start);
    const std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    char* end = nullptr;
    const float v = std::strtof(part.c_str(), &end);
    if (part.empty() || *end != 0) usage_error("{} expects one or three numbers separated by commas, got '{}'", option, text);
    if (count < 3) out[size_t(count)] = v;
    ++count;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (count == 1) out = {out[0], out[0], out[0]};
  else if (count != 3) usage_error("{} expects one or three numbers, got '{}'", option, text);
  return out;
}

std::string safe_file_name(const std::string& name) {
  std::string out = name;
  for (char& c : out)
    if (!(std::isalnum(uint8_t(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  return out;
}

Tensor random_input(const Graph& g, ValueId id, uint32_t seed) {
  const TensorType& type = g.type(id);
  if (!type.shape.fully_known())
    bad_input("input '{}' has shape {}; give concrete dims with --input-shape {}:...", g.value(id).name,
              to_string(type.shape), g.value(id).name);
  return random_tensor(type.dtype, type.shape.concrete(), seed);
}

// Loads one --input; for an image, also reports its size before resizing in `image_size`.
Tensor load_input(const Graph& g, ValueId id, const std::string& file, const Args& args, uint32_t seed,
                  std::optional<std::pair<int, int>>& image_size) {
  if (file == "random") return random_input(g, id, seed);
  try {
    return read_input_file(g, id, file, preprocess_options(args), &image_size);
  } catch (const Error& e) {
    throw with_context(e, "--input ");
  }
}

std::string stats(const Tensor& t) {
  if (t.numel() == 0) return "(empty)";
  double lo = INFINITY, hi = -INFINITY, sum = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double v = t.get_double(i);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  return fmt::format("min {:<10.4g} max {:<10.4g} mean {:.4g}", lo, hi, sum / double(t.numel()));
}

// Whether some node of `g` writes the value called `name` (a value a pass bypassed can linger
// in the value table, unwritten, until dead-code elimination).
bool written_by_a_node(const Graph& g, const std::string& name) {
  const ValueId v = g.find(name);
  return v != kNoValue && std::any_of(g.nodes.begin(), g.nodes.end(), [&](const Node& n) {
           return std::find(n.outputs.begin(), n.outputs.end(), v) != n.outputs.end();
         });
}

// The plan values that --dump-tensor's ONNX node names stand for: each node's outputs as the
// model wrote them, which must still exist in the optimised graph. When one does not, the
// pipeline runs again on the imported graph to find the pass after which it vanished, and the
// error names that pass and the node of the plan that absorbed the ONNX node.
std::set<std::string> resolve_dump_tensors(const Args& args, const Model& model, const LoadOptions& options) {
  std::set<std::string> values;
  if (!args.has("--dump-tensor")) return values;
  std::string source = model.source();
  if (is_plan_file(source)) {
    const PlanInfo info = read_plan_info(source);
    source = info.meta.contains("source") ? info.meta.at("source") : "";
    if (source.empty() || !fs::exists(source))
      bad_input("--dump-tensor names ONNX nodes, and the plan's source model '{}' is not there to read them from", source);
  }
  const Model imported = load_model(source, imported_options(options));
  const Graph& g = model.graph();
  for (const std::string& onnx_node : args.all("--dump-tensor")) {
    const auto node = std::find_if(imported.graph().nodes.begin(), imported.graph().nodes.end(),
                                   [&](const Node& n) { return n.name == onnx_node; });
    if (node == imported.graph().nodes.end())
      bad_input("--dump-tensor '{}': the model has no node of that name (nodes that only compute constants are "
                "folded when the model is imported)",
                onnx_node);
    for (ValueId out : node->outputs) {
      if (out == kNoValue) continue;
      const std::string& name = imported.graph().value(out).name;
      if (written_by_a_node(g, name)) {
        values.insert(name);
        continue;
      }
      // Gone: which pass took it, and where did the node go?
      Graph replay = imported.graph();
      PipelineOptions passes = options.passes;
      passes.dump_dir.clear();
      passes.on_pass = nullptr;
      std::string culprit;
      passes.on_change = [&](const PassInfo& pass, const Graph& now) {
        if (culprit.empty() && !written_by_a_node(now, name)) culprit = pass.name;
      };
      run_pipeline(replay, passes);
      // The plan node that absorbed it, and the ONNX node whose output that plan node writes.
      std::string into = "removed it", instead;
      for (const Node& n : g.nodes) {
        if (std::find(n.sources.begin(), n.sources.end(), onnx_node) == n.sources.end()) continue;
        const std::string& written = g.value(n.outputs[0]).name;
        into = fmt::format("fused it into the node from {}, which writes '{}'", fmt::join(n.sources, ", "), written);
        for (const Node& m : imported.graph().nodes)
          if (!m.outputs.empty() && m.outputs[0] != kNoValue && imported.graph().value(m.outputs[0]).name == written)
            instead = fmt::format("--dump-tensor {} for that, or ", m.name);
      }
      bad_input("--dump-tensor '{}': its output '{}' does not exist in the optimised graph: pass '{}' {}; use {}"
                "--disable-pass {} to keep it",
                onnx_node, name, culprit.empty() ? "?" : culprit, into, instead, culprit.empty() ? "PASS" : culprit);
    }
  }
  return values;
}

}  // namespace

Preprocess preprocess_options(const Args& args) {
  Preprocess pre;
  if (args.has("--mean")) pre.mean = parse_triple("--mean", args.get("--mean"));
  if (args.has("--std")) pre.std = parse_triple("--std", args.get("--std"));
  if (args.has("--size")) {
    const std::string s = args.get("--size");
    int w = 0, h = 0;
    char rest = 0;
    if (std::sscanf(s.c_str(), "%dx%d%c", &w, &h, &rest) != 2 || w <= 0 || h <= 0) usage_error("--size expects WxH, got '{}'", s);
    pre.size = {w, h};
  }
  return pre;
}

std::map<std::string, Tensor> collect_inputs(const Graph& g, const Args& args, bool missing_are_random,
                                             std::optional<std::pair<int, int>>& image_size) {
  std::map<std::string, std::string> files;
  for (const std::string& spec : args.all("--input")) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      if (g.inputs.size() != 1) usage_error("--input expects NAME=FILE when the model has {} inputs", g.inputs.size());
      files[g.value(g.inputs[0]).name] = spec;  // a single-input model may omit the name
    } else {
      files[spec.substr(0, eq)] = spec.substr(eq + 1);
    }
  }
  const uint32_t seed = uint32_t(args.get_int("--seed", 0, 0, 1 << 30));
  std::map<std::string, Tensor> inputs;
  for (const auto& [name, file] : files) {
    const ValueId id = g.find(name);
    if (id == kNoValue || g.value(id).kind != ValueKind::Input) {
      std::string names;
      for (ValueId in : g.inputs) names += (names.empty() ? "" : ", ") + g.value(in).name;
      bad_input("--input names '{}', which is not an input of the model (inputs: {})", name, names);
    }
    inputs[name] = load_input(g, id, file, args, seed + uint32_t(inputs.size()), image_size);
  }
  for (ValueId id : g.inputs) {
    const std::string& name = g.value(id).name;
    if (inputs.contains(name)) continue;
    if (!missing_are_random)
      bad_input("input '{}' ({}) is not given; pass --input {}=FILE (or =random)", name, to_string(g.type(id)), name);
    inputs[name] = random_input(g, id, seed + uint32_t(inputs.size()));
  }
  return inputs;
}

int cmd_inspect(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--ir"}, kPipelineFlags), kPipelineOptions);
  if (args.help()) {
    fmt::print(
        "usage: nnc inspect MODEL [--ir] [-O0..-O3] [--disable-pass NAME] [--dump-passes DIR]\n"
        "                   [--input-shape NAME:DxD...]\n\n"
        "MODEL is an .onnx file, an IR text file or a compiled plan. Prints inputs, outputs, the op\n"
        "histogram, parameter count and estimated FLOPs; --ir prints the IR text instead (it parses\n"
        "back identically). -O0 shows the graph exactly as imported. For a plan, first its header:\n"
        "format version, checksum, the nnc that wrote it, the source model and its SHA-256, the\n"
        "options it was compiled with, and the CPU, instruction set and threads it was tuned for.\n\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1) usage_error("nnc inspect MODEL (see --help)");
  const std::string path = args.positionals()[0];
  const Model model = load_model(path, load_options(args));
  const Graph& g = model.graph();
  if (args.flag("--ir")) {
    fmt::print("{}", print_ir(g));
    return 0;
  }
  if (is_plan_file(path)) {
    const PlanInfo info = read_plan_info(path);
    fmt::print("plan    format version {}, payload {} bytes, checksum 0x{:08x} (CRC-32)\n", info.format_version,
               info.payload_bytes, info.checksum);
    for (const char* key : {"nnc", "source", "source_sha256", "options", "cpu", "isa", "threads", "memory_plan", "gpu"})
      fmt::print("  {:<14} {}\n", key,
                 !info.meta.contains(key)                          ? "(not recorded)"
                 : std::string(key) == "gpu" && info.meta.at(key).empty() ? "none (every node runs on the CPU)"
                                                                          : info.meta.at(key));
    fmt::print("\n");
  }
  fmt::print("model   {}\ngraph   {} (opset {})\n", model.source(), g.name, g.opset);
  // The model's own metadata (ONNX metadata_props, or what a plan carried over): an IR text file has none.
  std::map<std::string, std::string> metadata;
  try {
    metadata = read_model_metadata(path);
  } catch (const Error&) {
  }
  for (const auto& [key, value] : metadata) fmt::print("metadata {} = {}\n", key, value);
  fmt::print("\ninputs\n");
  for (ValueId id : g.inputs) fmt::print("  {:<24} {}\n", g.value(id).name, to_string(g.type(id)));
  fmt::print("outputs\n");
  for (ValueId id : g.outputs) fmt::print("  {:<24} {}\n", g.value(id).name, to_string(g.type(id)));

  std::map<std::string, int> histogram;
  double flops = 0;
  for (const Node& n : g.nodes) {
    ++histogram[std::string(op_name(n.op))];
    flops += estimate_flops(g, n);
  }
  std::vector<std::pair<int, std::string>> sorted;
  for (const auto& [op, count] : histogram) sorted.emplace_back(-count, op);
  std::sort(sorted.begin(), sorted.end());
  fmt::print("\nops ({} nodes)\n", g.nodes.size());
  for (const auto& [count, op] : sorted) fmt::print("  {:<24} {}\n", op, -count);

  double parameters = 0, bytes = 0;
  for (ValueId id : g.consts()) {
    const TensorType& t = g.type(id);
    if (!t.shape.fully_known()) continue;
    parameters += double(product(t.shape.concrete()));
    bytes += double(product(t.shape.concrete())) * double(dtype_size(t.dtype));
  }
  fmt::print("\nparameters  {} ({} in {} constants, {:.1f} MiB)\n", human_count(parameters),
             fmt::format("{:.0f}", parameters), g.consts().size(), bytes / (1 << 20));
  fmt::print("FLOPs       {}FLOP per run (2 per multiply-add in Conv/MatMul/Gemm, 1 per output element elsewhere)\n",
             human_count(flops));
  return 0;
}

int cmd_run(const std::vector<std::string>& argv) {
  const Args args(argv, kPipelineFlags,
                  with({"--input", "--save-outputs", "--mean", "--std", "--size", "--save-png", "--seed", "--png-size",
                        "--dump-tensor"},
                       kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc run MODEL --input NAME=FILE [--input ...] [--save-outputs DIR] [--save-png NAME=FILE.png]\n"
        "               [--png-size WxH|output] [--input-shape NAME:DxD...] [--mean M] [--std S] [--size WxH]\n"
        "               [--seed N] [--dump-tensor ONNX_NODE ...]\n\n"
        "FILE is a .npy, an ONNX TensorProto .pb, an image (PNG/JPEG/BMP) or `random`.\n"
        "Images become f32[1,3,H,W]: resized to --size (default: the model's input size), scaled to\n"
        "[0,1], then (x - mean) / std per channel (--mean 0.485,0.456,0.406 --std 0.229,0.224,0.225\n"
        "for ImageNet). Inputs not given are an error; `random` fills uniform [-1,1] (seeded).\n"
        "Prints each output's shape and min/max/mean, and the inference time.\n"
        "--save-outputs DIR writes DIR/<name>.npy per output (characters outside [A-Za-z0-9._-]\n"
        "become _); --save-png NAME=FILE writes output NAME as a min-max normalised grayscale PNG,\n"
        "resized (bilinear) to the size of the input image when one was given, as U2Net's\n"
        "post-processing does; --png-size WxH picks another size, --png-size output keeps the\n"
        "output's own.\n"
        "--dump-tensor ONNX_NODE (repeatable) writes what that node of the ONNX model computes, as it\n"
        "runs in the optimised plan, to DIR/<output>.npy (DIR from --save-outputs, else .). A node\n"
        "whose output a pass fused away is an error naming the pass and the node it went into.\n\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1) usage_error("nnc run MODEL --input NAME=FILE ... (see --help)");
  LoadOptions options = load_options(args);
  options.tuning.progress = tuning_progress();
  const Model model = load_model(args.positionals()[0], options);
  const Graph& g = model.graph();

  std::optional<std::pair<int, int>> image_size;  // of the first image input, before resizing
  const std::map<std::string, Tensor> inputs = collect_inputs(g, args, /*missing_are_random=*/false, image_size);

  const std::set<std::string> dumped = resolve_dump_tensors(args, model, options);
  std::map<std::string, Tensor> dumps;
  const Session session(model);
  const auto start = std::chrono::steady_clock::now();
  const std::map<std::string, Tensor> outputs =
      session.run(inputs, nullptr, dumped.empty() ? TensorTap() : [&](const Node& node, int index, const Tensor& t) {
        const std::string& name = g.value(node.outputs[size_t(index)]).name;
        if (dumped.contains(name)) dumps[name] = t.clone();
      });
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!dumped.empty()) {
    const fs::path dir = args.get("--save-outputs", ".");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(ErrorKind::Runtime, "--dump-tensor: cannot create {}: {}", dir.string(), ec.message());
    for (const auto& [name, t] : dumps) {
      write_npy(dir / (safe_file_name(name) + ".npy"), t);
      fmt::print("dumped {} {} to {}\n", name, to_string(t.type()), (dir / (safe_file_name(name) + ".npy")).string());
    }
  }

  for (ValueId id : g.outputs) {
    const std::string& name = g.value(id).name;
    const Tensor& t = outputs.at(name);
    fmt::print("{:<20} {:<22} {}\n", name, to_string(t.type()), stats(t));
  }
  fmt::print("inference: {:.1f} ms ({} threads{})\n", ms, thread_count(),
             model.kernels().empty() ? ", reference kernels" : "");

  if (args.has("--save-outputs")) {
    const fs::path dir = args.get("--save-outputs");
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail(ErrorKind::Runtime, "--save-outputs: cannot create {}: {}", dir.string(), ec.message());
    for (const auto& [name, t] : outputs) write_npy(dir / (safe_file_name(name) + ".npy"), t);
    fmt::print("wrote {} outputs to {}/\n", outputs.size(), dir.string());
  }
  std::optional<std::pair<int, int>> png_size = image_size;
  if (args.has("--png-size")) {
    const std::string s = args.get("--png-size");
    int w = 0, h = 0;
    if (s == "output") png_size.reset();
    else if (std::sscanf(s.c_str(), "%dx%d", &w, &h) != 2 || w <= 0 || h <= 0)
      usage_error("--png-size expects WxH or 'output', got '{}'", s);
    else png_size = std::pair{w, h};
  }
  for (const std::string& spec : args.all("--save-png")) {
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) usage_error("--save-png expects NAME=FILE.png, got '{}'", spec);
    const auto it = outputs.find(spec.substr(0, eq));
    if (it == outputs.end()) bad_input("--save-png names '{}', which is not an output", spec.substr(0, eq));
    write_grayscale_png(spec.substr(eq + 1), it->second, png_size);
    fmt::print("wrote {}\n", spec.substr(eq + 1));
  }
  return 0;
}

}  // namespace nnc::cli
