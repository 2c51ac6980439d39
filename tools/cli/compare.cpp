// tools/cli/compare.cpp — `nnc compare`: where do the optimised plan's tensors part from the
// unoptimised graph's?
//
// Both run on the same inputs. Every tensor the plan materialises is tapped (copied as its node
// finishes, so observing adds no graph output and blocks no fusion) and matched to the reference
// tensor of the same name: a fused node keeps its last source's output name (Conv + BN + Relu
// writes what the Relu wrote), so names are how provenance meets values. Each match is scored by
// max-abs error, relative L2 and cosine; the table lists the worst first and marks the first
// tensor in execution order beyond the tolerance. An INT8 plan's 8-bit tensor `X.q` is
// dequantized (by the quantization its node writes) and compared with the reference's `X`, so the
// table names the layers that lost most. --bisect-passes instead finds the first pass after which
// the outputs drift (passes/bisect_passes.h).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/compare.h"
#include "core/plan_file.h"
#include "core/quantize.h"
#include "core/sha256.h"
#include "passes/bisect_passes.h"
#include "tools/cli/commands.h"
#include "tools/cli/json.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

struct TensorReport {
  std::string name;
  std::vector<std::string> onnx_nodes;  // provenance of the plan node that wrote it
  std::string shape;
  Difference d;
  bool beyond = false;
};

// Every tensor `model` computes on `inputs`, by value name, copied as its node finishes; with
// `order`, also the plan's execution order (value name and the node that wrote it).
std::map<std::string, Tensor> run_tapped(const Model& model, const std::map<std::string, Tensor>& inputs,
                                         std::vector<std::pair<std::string, const Node*>>* order) {
  const Graph& g = model.graph();
  std::map<std::string, Tensor> seen;
  Session(model).run(inputs, nullptr, [&](const Node& node, int index, const Tensor& t) {
    const std::string& name = g.value(node.outputs[size_t(index)]).name;
    seen[name] = t.clone();
    if (order) order->emplace_back(name, &node);
  });
  return seen;
}

std::vector<std::string> provenance(const Node& node) {
  return node.sources.empty() ? std::vector<std::string>{node.name} : node.sources;
}

std::string joined(const std::vector<std::string>& names, size_t width) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.size() <= width ? out : out.substr(0, width - 3) + "...";
}

// The graph to compare against: the source model as imported (onnx), or the plan's own graph on
// the reference kernels (O0), which separates a tactic's error from a pass's.
Model reference_model(const Model& model, const std::string& against, const fs::path& source,
                      const LoadOptions& options) {
  if (against == "O0") return Model(model.graph(), model.source());
  return load_model(source, imported_options(options));
}

int bisect(const Args& args, const std::string& path, const LoadOptions& options, double tolerance) {
  if (is_plan_file(path)) usage_error("--bisect-passes re-runs the passes: give the ONNX model, not a plan");
  const Model imported = load_model(path, imported_options(options));
  std::optional<std::pair<int, int>> image_size;
  const std::map<std::string, Tensor> named = collect_inputs(imported.graph(), args, true, image_size);
  std::vector<Tensor> inputs;
  for (ValueId id : imported.graph().inputs) inputs.push_back(named.at(imported.graph().value(id).name));
  const fs::path dir = args.get("--dump-dir", "nnc-bisect");
  fmt::print("bisecting the passes of {} (tolerance rel L2 {:.3g}, reference kernels throughout)\n", path, tolerance);
  const BisectResult r = bisect_passes(imported.graph(), inputs, options.passes, tolerance, dir);
  for (const std::string& line : r.log) fmt::print("  {}\n", line);
  if (r.changed_passes == 0) {
    fmt::print("no pass changed the graph\n");
    return 0;
  }
  if (!r.found) {
    fmt::print("all {} passes that changed the graph keep the outputs within {:.3g}\n", r.changed_passes, tolerance);
    return 0;
  }
  fmt::print("first divergence: after pass '{}' ({} of {} that changed the graph): rel L2 {:.3g} -> {:.3g}, "
             "max abs {:.3g} -> {:.3g}\n  before: {}\n  after:  {}\n",
             r.pass, r.index, r.changed_passes, r.before.rel_l2, r.after.rel_l2, r.before.max_abs, r.after.max_abs,
             r.before_dump.string(), r.after_dump.string());
  return 1;
}

}  // namespace

int cmd_compare(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--json", "--bisect-passes"}, kPipelineFlags),
                  with({"--input", "--against", "--tol", "--source", "--dump-dir", "--mean", "--std", "--size", "--seed"},
                       kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc compare MODEL|PLAN [--input NAME=FILE ...] [--against onnx|O0] [--tol T] [--json]\n"
        "                   [--source MODEL.onnx] [pipeline options]\n"
        "       nnc compare MODEL --bisect-passes [--input NAME=FILE ...] [--tol T] [--dump-dir DIR]\n\n"
        "Runs the optimised plan (MODEL compiled as nnc compile would, or a compiled PLAN) and a reference\n"
        "on the same inputs, and compares every tensor the plan materialises with the reference tensor of\n"
        "the same name (a fused node writes what its last source wrote): max-abs error, relative L2 and\n"
        "cosine similarity, worst first, with the ONNX nodes each came from; the first tensor in execution\n"
        "order beyond the tolerance is marked as the first divergence. Exit code 1 when any tensor is\n"
        "beyond it.\n\n"
        "  --against onnx    the source model as imported, on the reference kernels (default); for a\n"
        "                    PLAN the source is the file it was compiled from (--source overrides), checked\n"
        "                    against the SHA-256 the plan records\n"
        "  --against O0      the plan's own graph on the reference kernels: only the tactics differ\n"
        "  --tol T           relative L2 beyond which a tensor diverges (default 1e-4)\n"
        "  --json            one JSON object: model, against, plan_checksum, tolerance, tensors (name,\n"
        "                    onnx_nodes, shape, max_abs, rel_l2, cosine, beyond), first_divergence\n"
        "  --bisect-passes   find the first pass after which the outputs diverge: the graph after every\n"
        "                    pass runs on the reference kernels, binary search; writes the graph before\n"
        "                    and after that pass to --dump-dir (default ./nnc-bisect)\n"
        "Inputs not given are seeded random (--seed). The plan compare runs is the one nnc compile\n"
        "writes with the same options and timing cache: compare the printed checksum.\n\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1) usage_error("nnc compare MODEL|PLAN (see --help)");
  const std::string path = args.positionals()[0];
  const std::string against = args.get("--against", "onnx");
  if (against != "onnx" && against != "O0") usage_error("--against takes onnx or O0, got '{}'", against);
  const double tolerance = args.get_double("--tol", 1e-4);
  if (!(tolerance >= 0)) usage_error("--tol must be a non-negative number");
  LoadOptions options = load_options(args);
  if (args.flag("--bisect-passes")) return bisect(args, path, options, tolerance);
  const bool json = args.flag("--json");
  if (!json) options.tuning.progress = tuning_progress();

  // The plan, its checksum, and where its source is.
  const bool from_plan = is_plan_file(path);
  const Model model = load_model(path, options);
  fs::path source = path;
  std::string checksum = "n/a";
  if (from_plan) {
    const PlanInfo info = read_plan_info(path);
    checksum = fmt::format("0x{:08x}", info.checksum);
    const auto recorded = [&](const char* key) { return info.meta.contains(key) ? info.meta.at(key) : std::string(); };
    source = args.has("--source") ? fs::path(args.get("--source")) : fs::path(recorded("source"));
    if (against == "onnx") {
      if (source.empty() || !fs::exists(source))
        bad_input("{}: the plan was compiled from '{}', which is not there; give the model with --source FILE", path,
                  source.string());
      if (const std::string sha = recorded("source_sha256"); !sha.empty() && sha256_file(source) != sha)
        bad_input("{}: the plan was compiled from a model with SHA-256 {}, but {} has {}; give the right one with "
                  "--source FILE", path, sha, source.string(), sha256_file(source));
    }
  } else {
    try {
      checksum = fmt::format("0x{:08x}", plan_checksum(serialize_plan(model)));
    } catch (const Error&) {  // a graph a plan cannot hold yet (If/Loop): compare it all the same
    }
  }
  const Model reference = reference_model(model, against, source, options);

  std::optional<std::pair<int, int>> image_size;
  const std::map<std::string, Tensor> inputs = collect_inputs(model.graph(), args, true, image_size);
  std::vector<std::pair<std::string, const Node*>> order;
  const std::map<std::string, Tensor> planned = run_tapped(model, inputs, &order);
  const std::map<std::string, Tensor> expected = run_tapped(reference, inputs, nullptr);

  std::vector<TensorReport> reports;
  std::vector<std::string> unmatched;
  for (const auto& [name, node] : order) {
    auto it = expected.find(name);
    const Tensor* mine = &planned.at(name);
    Tensor dequantized;
    if (it == expected.end() && name.ends_with(".q")) {  // an INT8 tensor standing for an f32 one
      const std::optional<QuantParams> q = quantization_of_value(model.graph(), model.graph().find(name));
      it = q ? expected.find(name.substr(0, name.size() - 2)) : expected.end();
      if (it != expected.end()) {
        dequantized = Tensor(DType::F32, mine->dims());
        for (int64_t i = 0; i < mine->numel(); ++i)
          dequantized.data<float>()[i] = float((mine->get_double(i) - q->zero_point) * q->scale);
        mine = &dequantized;
      }
    }
    if (it == expected.end()) {
      unmatched.push_back(name);
      continue;
    }
    TensorReport r{name, provenance(*node), to_string(planned.at(name).type()), {}, false};
    if (mine->dims() != it->second.dims()) {
      r.d.max_abs = r.d.rel_l2 = INFINITY;
      r.d.cosine = 0;
    } else {
      r.d = compare(*mine, it->second);
    }
    r.beyond = beyond(r.d, tolerance);
    reports.push_back(std::move(r));
  }
  const auto first = std::find_if(reports.begin(), reports.end(), [](const TensorReport& r) { return r.beyond; });
  const std::string first_divergence = first == reports.end() ? "" : first->name;
  std::vector<TensorReport> worst = reports;
  std::stable_sort(worst.begin(), worst.end(), [](const TensorReport& a, const TensorReport& b) {
    return a.d.rel_l2 > b.d.rel_l2 || (std::isnan(b.d.rel_l2) && !std::isnan(a.d.rel_l2));
  });
  const size_t beyond_count = size_t(std::count_if(reports.begin(), reports.end(), [](const TensorReport& r) { return r.beyond; }));

  if (json) {
    std::string out = fmt::format("{{\"model\":{},\"against\":{},\"plan_checksum\":{},\"tolerance\":{},\"tensors\":[",
                                  json_string(path), json_string(against), json_string(checksum), json_number(tolerance));
    for (size_t i = 0; i < worst.size(); ++i) {
      const TensorReport& r = worst[i];
      std::string nodes;
      for (const std::string& n : r.onnx_nodes) nodes += (nodes.empty() ? "" : ",") + json_string(n);
      out += fmt::format("{}{{\"name\":{},\"onnx_nodes\":[{}],\"shape\":{},\"max_abs\":{},\"rel_l2\":{},\"cosine\":{},"
                         "\"beyond\":{}}}",
                         i ? "," : "", json_string(r.name), nodes, json_string(r.shape), json_number(r.d.max_abs),
                         json_number(r.d.rel_l2), json_number(r.d.cosine), r.beyond ? "true" : "false");
    }
    out += fmt::format("],\"unmatched\":{},\"first_divergence\":{}}}\n", unmatched.size(),
                       first_divergence.empty() ? "null" : json_string(first_divergence));
    fmt::print("{}", out);
    return beyond_count ? 1 : 0;
  }
  fmt::print("plan       {} (checksum {}{})\n", path, checksum, from_plan ? "" : ", as nnc compile would write it");
  fmt::print("against    {}\n", against == "O0" ? "the plan's graph on the reference kernels"
                                                : fmt::format("{} as imported, reference kernels", source.string()));
  fmt::print("tolerance  rel L2 {:.3g}\n\n", tolerance);
  fmt::print("  {:<36} {:<42} {:<22} {:>10} {:>10} {:>9}\n", "tensor", "from ONNX nodes", "shape", "max abs", "rel L2",
             "cosine");
  for (const TensorReport& r : worst)
    fmt::print("{} {:<36} {:<42} {:<22} {:>10.3g} {:>10.3g} {:>9.6f}{}\n", r.beyond ? "!" : " ", joined({r.name}, 36),
               joined(r.onnx_nodes, 42), r.shape, r.d.max_abs, r.d.rel_l2, r.d.cosine,
               r.name == first_divergence ? "  <- first divergence" : "");
  fmt::print("\n{} tensors compared, {} beyond the tolerance", reports.size(), beyond_count);
  if (!unmatched.empty())
    fmt::print("; {} the plan makes have no reference counterpart (new values of passes, e.g. {})", unmatched.size(),
               unmatched.front());
  fmt::print("\n");
  if (first != reports.end())
    fmt::print("first divergence in execution order: {} (from {})\n", first->name, joined(first->onnx_nodes, 200));
  return beyond_count ? 1 : 0;
}

}  // namespace nnc::cli
