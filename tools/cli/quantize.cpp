// tools/cli/quantize.cpp — `nnc quantize`: post-training INT8 quantization of a model.
//
//   nnc quantize MODEL --calib DIR -o OUT.nncplan [--method minmax|ema|percentile|mse|entropy]
//
// Loads and optimises MODEL in f32, runs it on every calibration input to choose each tensor's
// range (passes/calibration.h), compiles it again with insert-quantizers and fold-quantized-ops
// (the INT8 Convs are then tuned like every other node) and writes the plan. --report runs the
// f32 and INT8 models side by side on the calibration inputs and prints, per quantized tensor,
// SQNR, relative L2 and cosine similarity, worst first, and the Convs worth keeping in f32.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/npy.h"
#include "core/plan_file.h"
#include "core/quantize.h"
#include "models/input_files.h"
#include "tools/cli/commands.h"
#include "tools/cli/json.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace fs = std::filesystem;
namespace {

// --keep-float names must name a Conv of the optimised graph: a name that matches nothing, or a
// node a pass fused into another (BN, Relu), is an error naming the node that remains.
void check_keep_float(const Graph& g, const std::set<std::string>& names) {
  for (const std::string& name : names) {
    const Node* exact = nullptr;
    const Node* fused_into = nullptr;
    for (const Node& n : g.nodes) {
      if (n.name == name) exact = &n;
      else if (std::find(n.sources.begin(), n.sources.end(), name) != n.sources.end()) fused_into = &n;
    }
    if (exact && (exact->op == OpKind::Conv || exact->op == OpKind::MatMul || exact->op == OpKind::Gemm)) continue;
    if (exact)
      bad_input("--keep-float '{}' is a {}, not a Conv, MatMul or Gemm (LayerNorm and Softmax follow --layernorm/--softmax)",
                name, op_name(exact->op));
    if (fused_into)
      bad_input("--keep-float '{}': the passes fused that node into {}; name the node that remains: --keep-float {}", name,
                describe(*fused_into), fused_into->name);
    bad_input("--keep-float '{}' matches no node of the model (nnc compile -v lists them)", name);
  }
}

std::function<void(std::string_view, size_t, size_t)> calibration_progress() {
  const bool terminal = isatty(fileno(stdout));
  return [terminal](std::string_view phase, size_t done, size_t total) {
    if (terminal) {
      const int width = 30, filled = int(double(done) / double(total) * width);
      fmt::print("\r  calibrating {:<10} [{}{}] {}/{}", phase, std::string(size_t(filled), '#'),
                 std::string(size_t(width - filled), '.'), done, total);
      if (done == total) fmt::print("\n");
    } else if (done == total || (total >= 8 && done % ((total + 3) / 4) == 0)) {
      fmt::print("  calibrating {}: {}/{} inputs\n", phase, done, total);
    }
    std::fflush(stdout);
  };
}

void print_report(const QuantizationReport& r, size_t rows) {
  fmt::print("\nper-layer error of the INT8 plan (worst first; {} of {} tensors):\n",
             std::min(rows, r.layers.size()), r.layers.size());
  fmt::print("  {:<36} {:<30} {:>9} {:>10} {:>9} {:>9}\n", "node", "tensor", "SQNR dB", "rel L2", "cosine", "loss dB");
  for (size_t i = 0; i < std::min(rows, r.layers.size()); ++i) {
    const LayerError& l = r.layers[i];
    const std::string loss = std::isnan(l.sqnr_drop_db) ? "" : fmt::format("{:.2f}", l.sqnr_drop_db);
    fmt::print("  {:<36.36} {:<30.30} {:>9.2f} {:>10.4g} {:>9.6f} {:>9}\n", l.node, l.value, l.sqnr_db, l.rel_l2, l.cosine, loss);
  }
  fmt::print("  (loss dB: what an integer Conv loses over its input's SQNR, its own share of the error)\n");
  fmt::print("\nmodel outputs, INT8 against f32:\n");
  for (const OutputError& o : r.outputs)
    fmt::print("  {:<30} rel L2 {:<10.4g} max abs {:<10.4g} mean abs {:.4g}\n", o.name, o.rel_l2, o.max_abs, o.mean_abs);
  if (r.keep_float.empty()) fmt::print("\nno Conv stands out: keeping none in f32 is recommended\n");
  else fmt::print("\nrecommended to keep in f32 (--keep-float): {}\n", fmt::join(r.keep_float, " "));
}

void write_report_json(const QuantizationReport& r, const std::string& path) {
  std::ofstream out(path);
  out << "{\n  \"layers\": [\n";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerError& l = r.layers[i];
    out << fmt::format("    {{\"node\": {}, \"tensor\": {}, \"sqnr_db\": {}, \"rel_l2\": {}, \"cosine\": {}, \"loss_db\": {}}}{}\n",
                       json_string(l.node), json_string(l.value), json_number(l.sqnr_db), json_number(l.rel_l2),
                       json_number(l.cosine), json_number(l.sqnr_drop_db), i + 1 < r.layers.size() ? "," : "");
  }
  out << "  ],\n  \"outputs\": [\n";
  for (size_t i = 0; i < r.outputs.size(); ++i) {
    const OutputError& o = r.outputs[i];
    out << fmt::format("    {{\"name\": {}, \"rel_l2\": {}, \"max_abs\": {}, \"mean_abs\": {}}}{}\n", json_string(o.name),
                       json_number(o.rel_l2), json_number(o.max_abs), json_number(o.mean_abs), i + 1 < r.outputs.size() ? "," : "");
  }
  out << "  ],\n  \"keep_float\": [";
  for (size_t i = 0; i < r.keep_float.size(); ++i) out << (i ? ", " : "") << json_string(r.keep_float[i]);
  out << "]\n}\n";
  if (!out) fail(ErrorKind::Runtime, "--json: cannot write {}", path);
}

}  // namespace

int cmd_quantize(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--report", "--symmetric", "--pow2-scales", "--fixed-point", "--cle", "--bias-correction", "--fq-vit",
                              "--int8"},  // accepted for `nnc compile --int8`'s spelling
                             kPipelineFlags),
                  with({"--calib", "-o", "--method", "--percentile", "--ema-weight", "--max-calib", "--keep-float", "--json", "--eval",
                        "--mean", "--std", "--size", "--report-rows", "--accuracy-budget", "--layernorm", "--softmax"},
                       kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc quantize MODEL --calib DIR -o OUT.nncplan [--method minmax|ema|percentile|mse|entropy]\n"
        "                          [--percentile P] [--ema-weight W] [--symmetric] [--pow2-scales] [--fixed-point]\n"
        "                          [--cle] [--bias-correction] [--layernorm f32|int8|ptf] [--softmax f32|int8|log2]\n"
        "                          [--fq-vit]\n"
        "                          [--keep-float NODE]... [--accuracy-budget REL_L2] [--max-calib N]\n"
        "                          [--mean M --std S --size WxH]\n"
        "                          [--report] [--report-rows N] [--json REPORT.json] [--eval DIR]\n\n"
        "Post-training INT8: every Conv with a Relu/Clip/no activation runs on 8-bit activations (u8 with a\n"
        "zero point, or s8 symmetric with --symmetric) and 8-bit weights (s8, a scale per output channel),\n"
        "accumulating in int32 and requantizing in f32 (or fixed point with --fixed-point) with bias,\n"
        "residual and activation applied before the rounding. Every MatMul with calibrated inputs runs on\n"
        "8-bit inputs too (a constant B: s8, a scale per column).\n\n"
        "--calib DIR   calibration inputs: images (preprocessed by --mean/--std/--size like nnc run) or\n"
        "              .npy/.pb files, one per input set; for a model with several inputs, one folder per\n"
        "              set holding <input name>.npy. At most --max-calib (default 64), in name order.\n"
        "--method      how a tensor's range is chosen: minmax, ema (moving average of per-input extremes,\n"
        "              --ema-weight, default 0.1), percentile (--percentile, default 99.99), mse (least\n"
        "              expected squared error), entropy (least KL divergence, as TensorRT). Default minmax,\n"
        "              the most accurate on U2Net's masks (README, INT8).\n"
        "--pow2-scales scales rounded up to powers of two.\n"
        "--cle         cross-layer equalization first: for Conv -> Relu -> Conv pairs, per-channel weight\n"
        "              ranges made equal across the two layers (the f32 function is unchanged).\n"
        "--bias-correction  each quantized Conv's bias absorbs the mean shift its rounded weights cause,\n"
        "              measured with the calibration inputs' per-channel means.\n"
        "--layernorm   LayerNorm over the last axis: f32 (default); int8, integer-only on an input with one\n"
        "              scale; ptf, FQ-ViT's power-of-two factors (each channel's step the smallest times\n"
        "              1, 2, 4 or 8, one zero point), for residual streams whose channels' ranges differ.\n"
        "--softmax     Softmax over the last axis: f32 (default); int8, integer exp and uniform 8-bit\n"
        "              output; log2, FQ-ViT's log-int-softmax: 4-bit codes round(-log2 p).\n"
        "--fq-vit      --layernorm ptf --softmax log2.\n"
        "--keep-float  leave that Conv or MatMul (node name, as nnc compile -v shows) in f32; repeatable.\n"
        "--accuracy-budget X  mixed precision: while an output's relative L2 against f32 on the\n"
        "              calibration inputs exceeds X, move the Convs that lose most SQNR over their\n"
        "              input back to f32 (a tenth at a time) and compile again.\n"
        "--report      per-tensor SQNR / relative L2 / cosine of the INT8 plan against f32 on the\n"
        "              calibration inputs, worst first, and the Convs it recommends keeping in f32;\n"
        "              --json FILE writes the same as JSON. --eval DIR measures on other inputs (same\n"
        "              layout as --calib) instead: how the calibration generalises.\n\n"
        "options:\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1) usage_error("nnc quantize MODEL --calib DIR -o OUT.nncplan (see --help)");
  if (!args.has("--calib")) usage_error("nnc quantize needs --calib DIR (calibration inputs)");
  if (!args.has("-o") && !args.flag("--report")) usage_error("nnc quantize needs -o OUT.nncplan or --report");
  if (args.has("-o") && !args.get("-o").ends_with(".nncplan")) usage_error("-o must name a .nncplan file, got '{}'", args.get("-o"));
  if (args.has("-o")) check_output_path("-o", args.get("-o"));
  if (args.has("--json")) check_output_path("--json", args.get("--json"));
  if ((args.has("--json") || args.has("--eval") || args.has("--report-rows")) && !args.flag("--report"))
    usage_error("--json, --eval and --report-rows shape the report: add --report");

  QuantizeOptions q;
  const std::string method = args.get("--method", "minmax");
  const std::optional<CalibrationMethod> parsed = parse_calibration_method(method);
  if (!parsed) usage_error("--method must be minmax, ema, percentile, mse or entropy, got '{}'", method);
  q.calibration.method = *parsed;
  q.calibration.percentile = args.get_double("--percentile", 99.99);
  if (!(q.calibration.percentile >= 50 && q.calibration.percentile <= 100))
    usage_error("--percentile must be between 50 and 100, got {}", q.calibration.percentile);
  q.calibration.ema_weight = args.get_double("--ema-weight", 0.1);
  if (!(q.calibration.ema_weight > 0 && q.calibration.ema_weight <= 1))
    usage_error("--ema-weight must be in (0, 1], got {}", q.calibration.ema_weight);
  q.calibration.symmetric = args.flag("--symmetric");
  q.calibration.power_of_two = args.flag("--pow2-scales");
  q.fixed_point = args.flag("--fixed-point");
  q.bias_correction = args.flag("--bias-correction");
  for (const std::string& name : args.all("--keep-float")) q.keep_float.insert(name);
  const std::string layernorm = args.get("--layernorm", args.flag("--fq-vit") ? "ptf" : "f32");
  const std::string softmax = args.get("--softmax", args.flag("--fq-vit") ? "log2" : "f32");
  const auto layernorm_mode = parse_layernorm_mode(layernorm);
  if (!layernorm_mode) usage_error("--layernorm must be f32, int8 or ptf, got '{}'", layernorm);
  const auto softmax_mode = parse_softmax_mode(softmax);
  if (!softmax_mode) usage_error("--softmax must be f32, int8 or log2, got '{}'", softmax);
  q.layernorm = *layernorm_mode;
  q.softmax = *softmax_mode;
  q.progress = calibration_progress();
  const size_t limit = size_t(args.get_int("--max-calib", 64, 1, 100000));
  const double budget = args.get_double("--accuracy-budget", 1.0);  // checked before any slow work
  if (args.has("--accuracy-budget") && !(budget > 0))
    usage_error("--accuracy-budget must be a positive relative L2, got '{}'", args.get("--accuracy-budget"));

  LoadOptions options = load_options(args);
  if (!options.passes.runs_any_pass()) usage_error("nnc quantize needs the pass pipeline (not -O0)");
  options.passes.equalize_cross_layer = args.flag("--cle");
  options.tuning.progress = tuning_progress();
  const std::string path = args.positionals()[0];
  fmt::print("loading {} in f32\n", path);
  const Model f32 = load_model(path, options);
  check_keep_float(f32.graph(), q.keep_float);
  const std::vector<Batch> batches = read_calibration_folder(args.get("--calib"), f32.graph(), preprocess_options(args), limit, "--calib");
  fmt::print("calibrating on {} input{} ({})\n", batches.size(), batches.size() == 1 ? "" : "s", method);
  LoadOptions int8_options = options;
  int8_options.passes.quantization = calibrate(f32, batches, q);
  int8_options.passes.on_pass = [](const PassReport& r) {
    if (r.pass() == "insert-quantizers" || r.pass() == "fold-quantized-ops" || r.pass() == "equalize-cross-layer")
      fmt::print("  {:<22} {}\n", r.pass(), r.summary_text());
  };
  fmt::print("compiling INT8\n");
  std::optional<Model> budgeted;
  if (args.has("--accuracy-budget")) {
    auto table = std::make_shared<QuantizationTable>(*int8_options.passes.quantization);
    LoadOptions quiet = int8_options;
    quiet.passes.on_pass = nullptr;
    quiet.tuning.progress = nullptr;
    BudgetedModel b = quantize_within_budget(path, quiet, f32, table, batches, budget,
                                             [](const std::string& line) { fmt::print("  {}\n", line); });
    if (b.worst_rel_l2 > budget) fmt::print("warning: the budget was not met ({:.4g} > {:.4g})\n", b.worst_rel_l2, budget);
    budgeted.emplace(std::move(b.model));
  }
  if (!budgeted) budgeted.emplace(load_model(path, int8_options));
  const Model& int8 = *budgeted;
  for (ValueId id : f32.graph().inputs)
    if (int8.graph().find(f32.graph().value(id).name) == kNoValue)
      fail(ErrorKind::Internal, "the INT8 graph lost input '{}'", f32.graph().value(id).name);
  int convs = 0, qconvs = 0, matmuls = 0, qmatmuls = 0, norms = 0, softmaxes = 0;
  for (const Node& n : int8.graph().nodes) {
    convs += n.op == OpKind::Conv, qconvs += n.op == OpKind::QLinearConv;
    matmuls += n.op == OpKind::MatMul, qmatmuls += n.op == OpKind::QLinearMatMul;
    norms += n.op == OpKind::QLayerNorm, softmaxes += n.op == OpKind::QSoftmax;
  }
  std::string line = fmt::format("{} Conv run in INT8, {} stay in f32", qconvs, convs);
  if (matmuls + qmatmuls > 0) line += fmt::format("; {} MatMul in INT8, {} in f32", qmatmuls, matmuls);
  if (norms + softmaxes > 0) line += fmt::format("; {} LayerNorm and {} Softmax integer-only", norms, softmaxes);
  fmt::print("{}\n", line);
  print_tuning_summary(int8, false);
  if (args.has("-o")) {
    const std::string out = args.get("-o");
    save_plan(int8, out);
    fmt::print("plan written to {} ({:.1f} MiB)\n", out, double(fs::file_size(out)) / (1 << 20));
  }
  if (args.flag("--report")) {
    const std::vector<Batch> measured =
        args.has("--eval") ? read_calibration_folder(args.get("--eval"), f32.graph(), preprocess_options(args), limit, "--eval") : batches;
    if (args.has("--eval")) fmt::print("\nmeasuring on {} input{} of {}\n", measured.size(), measured.size() == 1 ? "" : "s", args.get("--eval"));
    const QuantizationReport report = quantization_report(f32, int8, measured);
    print_report(report, size_t(args.get_int("--report-rows", 15, 1, 100000)));
    if (args.has("--json")) {
      write_report_json(report, args.get("--json"));
      fmt::print("report written to {}\n", args.get("--json"));
    }
  }
  return 0;
}

}  // namespace nnc::cli
