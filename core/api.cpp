#include "core/api.h"

#include <optional>

#include "backends/cuda/graph_replay.h"
#include "backends/cuda/residency.h"
#include "backends/cuda/tactics.h"

#include <fstream>

#include "backends/cpu/thread_pool.h"
#include "core/ir_text.h"
#include "core/plan_file.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"
#include "passes/pipeline.h"
#include "passes/plan_memory.h"

namespace nnc {
namespace fs = std::filesystem;

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> names;
  for (ValueId id : graph_.inputs) names.push_back(graph_.value(id).name);
  return names;
}

std::vector<std::string> Model::output_names() const {
  std::vector<std::string> names;
  for (ValueId id : graph_.outputs) names.push_back(graph_.value(id).name);
  return names;
}

namespace {

Graph load_graph(const fs::path& path, const LoadOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) bad_input("{}: no such file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open file", path.string());
  std::string head(64, '\0');
  in.read(head.data(), std::streamsize(head.size()));
  head.resize(size_t(in.gcount()));
  const std::string_view trimmed = std::string_view(head).substr(std::min(head.size(), head.find_first_not_of(" \t\r\n#")));
  if (trimmed.starts_with("graph ") || head.starts_with("#")) {
    in.seekg(0);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    Graph g = parse_ir(text, path.string());
    for (const auto& [name, dims] : options.input_shapes) {
      const ValueId id = g.find(name);
      if (id == kNoValue || g.value(id).kind != ValueKind::Input) bad_input("--input-shape names '{}', which is not an input", name);
      g.value(id).type.shape = Shape(dims);
    }
    try {
      infer_types(g);
      verify(g, /*from_file=*/true);
    } catch (const Error& e) {
      throw with_context(e, path.string() + ": ");
    }
    return g;
  }
  ImportOptions import_options;
  import_options.input_shapes = options.input_shapes;
  import_options.fold_constants = options.fold_constants;
  return import_onnx_file(path, import_options);
}

}  // namespace

std::string describe_options(const LoadOptions& options) {
  const PipelineOptions& p = options.passes;
  std::string out = p.only.empty() ? fmt::format("-O{}", p.level) : fmt::format("passes={}", fmt::join(p.only, ","));
  for (const std::string& name : p.disabled) out += " disable=" + name;  // a std::set: sorted
  for (const auto& [name, dims] : options.input_shapes) {                // a std::map: sorted
    out += " input_shape=" + name + ":";
    for (size_t i = 0; i < dims.size(); ++i) out += (i ? "x" : "") + std::to_string(dims[i]);
  }
  if (p.quantization) {
    out += " int8=" + (p.quantization->how.empty() ? std::string("given") : p.quantization->how);
    if (p.quantization->fixed_point) out += " requantize=fixed";
    if (p.quantization->bias_correction) out += " bias_correction";
    if (!p.quantization->calibration_sha256.empty()) out += " calibration_sha256=" + p.quantization->calibration_sha256;
    for (const std::string& name : p.quantization->keep_float) out += " keep_float=" + name;
  }
  if (p.equalize_cross_layer) out += " cle";
  if (!options.fold_constants) out += " no_import_folding";
  if (!options.plan_memory) out += " no_memory_plan";
  if (!options.tune) out += " no_tune";
  return out;
}

Model load_model(const fs::path& path, const LoadOptions& options) {
  // A compiled plan is already optimised and tuned: passes and tuning options do not apply.
  if (is_plan_file(path)) return load_plan(path);
  Graph g = load_graph(path, options);
  PipelineResult result = run_pipeline(g, options.passes);
  std::optional<MemoryPlan> plan;
  if (options.plan_memory && options.passes.runs_any_pass()) plan = plan_memory(g);
  cpu::TuningResult tuning;
  if (options.tune && options.passes.runs_any_pass()) tuning = cpu::tune(g, options.tuning);
  return Model(std::move(g), path.string(), std::move(result), std::move(plan), std::move(tuning),
               describe_options(options));
}

void set_thread_count(int threads) { cpu::set_thread_count(threads); }
int thread_count() { return cpu::thread_count(); }

std::map<std::string, Tensor> Session::run(const std::map<std::string, Tensor>& inputs, const NodeTimer& timer,
                                           const TensorTap& tap) const {
  const Graph& g = model_.graph();
  std::vector<Tensor> ordered;
  for (ValueId id : g.inputs) {
    const std::string& name = g.value(id).name;
    const auto it = inputs.find(name);
    if (it == inputs.end()) bad_input("input '{}' ({}) is not given", name, to_string(g.type(id)));
    ordered.push_back(it->second);
  }
  for (const auto& [name, tensor] : inputs) {
    const ValueId id = g.find(name);
    if (id == kNoValue || g.value(id).kind != ValueKind::Input) {
      std::string names;
      for (ValueId in : g.inputs) names += (names.empty() ? "" : ", ") + g.value(in).name;
      bad_input("'{}' is not an input of the model (inputs: {})", name, names);
    }
  }
  InterpreterOptions options;
  if (model_.memory_plan()) {
    options.plan = &*model_.memory_plan();
    std::lock_guard lock(arenas_->mutex);
    if (!arenas_->idle.empty()) {
      options.arena = std::move(arenas_->idle.back());
      arenas_->idle.pop_back();
    }
  }
  if (options.plan && !options.arena) options.arena = allocate_aligned(size_t(options.plan->arena_bytes), false);
  options.kernels = model_.kernels();
  options.timer = timer;
  options.tap = tap;
  const std::shared_ptr<cuda::Device> device = cuda::tactic_settings().device;  // a copy: use_device may run meanwhile
  // A model wholly on the GPU: recorded once as a CUDA graph, then replayed (graph_replay.h).
  // Not while observed (a tap or a timer needs every node run as itself).
  if (!tap && !timer && device && cuda::DeviceResidency::any_cuda(options.kernels)) {
    std::shared_ptr<cuda::GraphReplay> replay;
    {
      std::lock_guard lock(arenas_->mutex);
      if (!replay_considered_ && cuda::GraphReplay::eligible(g, options.plan, options.kernels, device))
        replay_ = std::make_shared<cuda::GraphReplay>(g, options.plan, options.kernels, device);
      replay_considered_ = true;
      replay = replay_;
    }
    bool exact_inputs = true;  // a recording holds the declared shapes
    for (size_t i = 0; i < ordered.size(); ++i)
      exact_inputs = exact_inputs && ordered[i].type() == g.type(g.inputs[i]);
    std::unique_lock busy = replay && exact_inputs && replay->device() == device
                                ? std::unique_lock(replay->busy(), std::try_to_lock)
                                : std::unique_lock<std::mutex>();
    if (busy.owns_lock()) {
      std::vector<Tensor> results = replay->run(ordered, [&](cuda::DeviceResidency& r) {
        InterpreterOptions o = options;
        o.before_node = [&r](size_t n, std::span<const Tensor* const> in) { r.before_node(n, in); };
        const cuda::DeviceResidency::Active active(r);
        return run_reference(g, ordered, o);
      });
      std::lock_guard lock(arenas_->mutex);
      last_transfers_ = replay->stats();
      last_transfers_.graph_replay = replay->replayed();
      if (options.arena) arenas_->idle.push_back(std::move(options.arena));
      std::map<std::string, Tensor> out;
      for (size_t i = 0; i < results.size(); ++i) out.emplace(g.value(g.outputs[i]).name, results[i]);
      return out;
    }
  }
  // Nodes on a GPU keep their tensors there between them (backends/cuda/residency.h).
  std::optional<cuda::DeviceResidency> residency;
  if (cuda::DeviceResidency::any_cuda(options.kernels) && device) {
    residency.emplace(g, options.plan, options.kernels, device, /*download_every_output=*/bool(tap),
                      /*synchronize_every_node=*/bool(timer));
    options.before_node = [&](size_t n, std::span<const Tensor* const> in) { residency->before_node(n, in); };
  }
  std::optional<cuda::DeviceResidency::Active> active;
  if (residency) active.emplace(*residency);
  std::vector<Tensor> results = run_reference(g, ordered, options);
  if (residency) {
    residency->finish(results);
    std::lock_guard lock(arenas_->mutex);
    last_transfers_ = residency->stats();
  }
  if (options.arena) {  // back to the pool (not on an exception: the next run allocates anew)
    std::lock_guard lock(arenas_->mutex);
    arenas_->idle.push_back(std::move(options.arena));
  }
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < results.size(); ++i) out.emplace(g.value(g.outputs[i]).name, results[i]);
  return out;
}

}  // namespace nnc
