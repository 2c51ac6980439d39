// passes/pipeline.cpp — the pass table, read top to bottom, and the manager that runs it.
#include "passes/pipeline.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/compare.h"
#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"
#include "passes/eliminate_common_subexpressions.h"
#include "passes/eliminate_concat.h"
#include "passes/eliminate_dead_code.h"
#include "passes/fold_batchnorm.h"
#include "passes/fold_constants.h"
#include "passes/fold_quantized_ops.h"
#include "passes/equalize_cross_layer.h"
#include "passes/fuse_activations.h"
#include "passes/fuse_deform_attn.h"
#include "passes/fuse_deform_conv.h"
#include "passes/fuse_gelu.h"
#include "passes/fuse_group_norm.h"
#include "passes/fuse_layer_norm.h"
#include "passes/merge_siblings.h"
#include "passes/remove_identities.h"

namespace nnc {

// The order matters: folding first exposes constants to every later pass; CSE before the
// pattern passes so a pattern is not split by a duplicated subexpression; BN folding before
// activation fusion so Conv -> BN -> Relu becomes one Conv; GELU recognised before activation
// fusion so MatMul -> Add -> GELU becomes one MatMul; Concat elimination after every fusion,
// since it depends on who finally produces each input; dead code last. Memory planning
// (passes/plan_memory.h) is not a rewrite: load_model runs it on the result. INT8: quantizer
// insertion (only with a calibration table) and folding come after every f32 fusion, so that a
// Conv is quantized with its bias, activation and residual, and before Concat elimination, which
// then places 8-bit tensors.
std::vector<PassInfo> pass_table(std::shared_ptr<const QuantizationTable> quantization, bool equalize) {
  std::vector<PassInfo> table = {
      // name                            function                          -O  what it does
      {"fold-constants",                  fold_constants,                   1, "evaluate nodes whose inputs are all known"},
      {"remove-identities",               remove_identities,                1, "drop Identity, Dropout, no-op Cast/Reshape/Expand"},
      {"eliminate-common-subexpressions", eliminate_common_subexpressions,  1, "compute each distinct value once"},
      {"fold-batchnorm",                  fold_batchnorm,                   1, "fold BN and constant scale/shift into weights"},
      {"fuse-layer-norm",                 fuse_layer_norm,                  2, "spelled-out LayerNorm -> LayerNormalization"},
      {"fuse-group-norm",                 fuse_group_norm,                  2, "Reshape/InstanceNorm/Reshape/Mul/Add -> GroupNormalization"},
      {"fuse-gelu",                       fuse_gelu,                        2, "spelled-out GELU (erf or tanh form) -> Gelu"},
      {"fuse-deform-attn",                fuse_deform_attn,                 2, "GridSample-per-level deformable attention -> MSDeformAttn"},
      {"fuse-deform-conv",                fuse_deform_conv,                 2, "GridSample-per-tap deformable convolution -> DeformConv"},
      {"fuse-activations",                fuse_activations,                 2, "bias/residual Add and activation into Conv/Gemm/MatMul"},
      {"merge-siblings",                  merge_siblings,                   2, "sibling Conv/MatMul on one input -> one wider op + Split"},
      {"fold-quantized-ops",              fold_quantized_ops,               2, "DQ -> Conv -> Q into QLinearConv; MaxPool/Concat on 8 bits"},
      {"eliminate-concat",                eliminate_concat,                 2, "producers write into their slice of a Concat (zero copy)"},
      {"eliminate-dead-code",             eliminate_dead_code,              1, "drop nodes and constants nothing uses"},
  };
  if (equalize) {
    const auto after = std::find_if(table.begin(), table.end(), [](const PassInfo& p) { return std::string_view(p.name) == "fuse-activations"; });
    table.insert(after + 1, PassInfo{"equalize-cross-layer", equalize_cross_layer, 2,
                                     "equal per-channel weight ranges across Conv -> Relu -> Conv (INT8)"});
  }
  if (quantization) {
    const auto fold = std::find_if(table.begin(), table.end(), [](const PassInfo& p) { return std::string_view(p.name) == "fold-quantized-ops"; });
    table.insert(fold, PassInfo{"insert-quantizers", [quantization](Graph& g) { return insert_quantizers(g, *quantization); }, 2,
                                "Q/DQ pairs around each Conv, by the calibrated ranges"});
  }
  return table;
}

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) fail(ErrorKind::Runtime, "--dump-passes: cannot write {}", path.string());
}

void write_dump(const std::filesystem::path& dir, int index, const std::string& name, const Graph& g) {
  const std::string stem = fmt::format("{:02d}-{}", index, name);
  write_file(dir / (stem + ".nnc"), print_ir(g));
  write_file(dir / (stem + ".dot"), print_dot(g));
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A line with runs of spaces collapsed: the printer re-aligns its columns when a pass removes
// the widest name, and that is not a change worth showing.
std::string without_alignment(const std::string& line) {
  std::string out;
  for (char c : line)
    if (c != ' ' || (!out.empty() && out.back() != ' ')) out += c;
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The lines only in `before` ("- ...") then the lines only in `after` ("+ ..."): for one pass
// this is exactly the nodes and constants it removed and the ones it made.
std::vector<std::string> line_diff(const std::string& before, const std::string& after) {
  const std::vector<std::string> a = lines_of(before), b = lines_of(after);
  std::multiset<std::string> in_a, in_b;
  for (const std::string& line : a) in_a.insert(without_alignment(line));
  for (const std::string& line : b) in_b.insert(without_alignment(line));
  std::vector<std::string> out;
  for (const std::string& line : a)
    if (!in_b.contains(without_alignment(line))) out.push_back("- " + line);
  for (const std::string& line : b)
    if (!in_a.contains(without_alignment(line))) out.push_back("+ " + line);
  return out;
}

std::vector<PassInfo> selected_passes(const PipelineOptions& options) {
  const std::vector<PassInfo> table = options.table.empty() ? pass_table(options.quantization, options.equalize_cross_layer) : options.table;
  auto find = [&](const std::string& name) -> const PassInfo& {
    for (const PassInfo& p : table)
      if (name == p.name) return p;
    std::string names;
    for (const PassInfo& p : table) names += (names.empty() ? "" : ", ") + std::string(p.name);
    bad_input("no pass named '{}' (passes: {})", name, names);
  };
  for (const std::string& name : options.disabled) find(name);
  if (!options.explain.empty()) find(options.explain);
  std::vector<PassInfo> chosen;
  if (!options.only.empty()) {
    for (const std::string& name : options.only) chosen.push_back(find(name));
  } else {
    for (const PassInfo& p : table)
      if (p.level <= options.level) chosen.push_back(p);
  }
  std::erase_if(chosen, [&](const PassInfo& p) { return options.disabled.contains(p.name); });
  return chosen;
}

// Seeded random inputs and the unoptimised graph's outputs on them, for --verify-passes.
struct NumericBaseline {
  std::vector<Tensor> inputs, outputs;
};

NumericBaseline numeric_baseline(const Graph& g) {
  NumericBaseline b;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const TensorType& type = g.type(g.inputs[i]);
    if (!type.shape.fully_known())
      bad_input("--verify-passes needs concrete input shapes; input '{}' is {} (use --input-shape)",
                g.value(g.inputs[i]).name, to_string(type));
    b.inputs.push_back(random_tensor(type.dtype, type.shape.concrete(), 1000 + i));
  }
  b.outputs = run_reference(g, b.inputs);
  return b;
}

std::string check_numerics(const Graph& g, const NumericBaseline& baseline, const std::string& pass, double tolerance) {
  const std::vector<Tensor> outputs = run_reference(g, baseline.inputs);
  double worst_rel = 0, worst_abs = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Difference d = compare(outputs[i], baseline.outputs[i]);
    worst_rel = std::max(worst_rel, d.rel_l2);
    worst_abs = std::max(worst_abs, d.max_abs);
  }
  if (!(worst_rel <= tolerance))
    fail(ErrorKind::Internal, "--verify-passes: pass '{}' changed the results: rel L2 {:.3g} > {:.3g} (max abs {:.3g})",
         pass, worst_rel, tolerance, worst_abs);
  return fmt::format("{:<34} max abs {:.3g}  rel L2 {:.3g}", pass, worst_abs, worst_rel);
}

}  // namespace

PipelineResult run_pipeline(Graph& graph, const PipelineOptions& options) {
  const std::vector<PassInfo> passes = selected_passes(options);
  PipelineResult result;
  if (!options.dump_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.dump_dir, ec);
    if (ec) fail(ErrorKind::Runtime, "--dump-passes: cannot create {}: {}", options.dump_dir.string(), ec.message());
    write_dump(options.dump_dir, 0, "input", graph);
  }
  NumericBaseline baseline;
  if (options.verify_numerics) baseline = numeric_baseline(graph);

  std::string summary;
  int dump_index = 1;
  for (const PassInfo& pass : passes) {
    const bool explaining = options.explain == pass.name;
    const std::string before = explaining ? print_ir(graph) : std::string();
    const auto start = std::chrono::steady_clock::now();
    PassReport report = pass.run(graph);
    report.set_milliseconds(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (report.changed()) {
      try {
        infer_types(graph);
        if (options.verify_each) verify(graph);
      } catch (const Error& e) {
        fail(ErrorKind::Internal, "pass '{}' left an ill-formed graph: {}", pass.name, e.what());
      }
      if (!options.dump_dir.empty()) write_dump(options.dump_dir, dump_index++, pass.name, graph);
      if (options.on_change) options.on_change(pass, graph);
      if (options.verify_numerics)
        result.verification.push_back(check_numerics(graph, baseline, pass.name, options.verify_tolerance));
    }
    if (explaining) result.explanation = line_diff(before, print_ir(graph));
    summary += fmt::format("{}: {}\n", pass.name, report.summary_text().empty() ? "done" : report.summary_text());
    if (options.on_pass) options.on_pass(report);
    result.reports.push_back(std::move(report));
  }
  if (!options.dump_dir.empty()) write_file(options.dump_dir / "summary.txt", summary);
  return result;
}

}  // namespace nnc
