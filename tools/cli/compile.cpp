// tools/cli/compile.cpp — `nnc compile`: import, run the pass pipeline and tell the story.
//
// Prints one line per pass (time, what it did), writes the teaching dumps with
// --dump-passes, the rewrite-by-rewrite account of one pass with --explain, the per-pass
// numeric check with --verify-passes, and the optimised IR with -o.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

#include "backends/cuda/tactics.h"
#include "backends/cpu/micro_kernels.h"
#include "core/api.h"
#include "passes/plan_memory.h"
#include "core/ir_text.h"
#include "core/plan_file.h"
#include "tools/cli/commands.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace {

// "Conv_12 (Conv) f32[1,16,320,320]"
// "name (Op) type", and for a fused node the ONNX nodes it came from.
std::string node_label(const Graph& g, const Node& n) {
  const std::string name = n.name.empty() ? "(unnamed)" : n.name;
  std::string label = fmt::format("{} ({}) {}", name, op_name(n.op), n.outputs.empty() ? "" : to_string(g.type(n.outputs[0])));
  if (n.sources.size() > 1) label += fmt::format("  # from {}", fmt::join(n.sources, ", "));
  return label;
}

}  // namespace

// One line per tuned node: every candidate's median time (or why it could not run), the choice.
void print_tuning_summary(const Model& model, bool table) {
  const cpu::TuningResult& tuning = model.tuning();
  if (tuning.nodes.empty()) return;
  int fast = 0, on_gpu = 0;
  for (const cpu::NodeTuning& t : tuning.nodes) fast += t.chosen != "reference", on_gpu += t.chosen.starts_with("cuda.");
  fmt::print("tuning: {} of {} tunable nodes run a fast tactic ({} threads, {} micro-kernel, {:.2f} s{})\n", fast,
             tuning.nodes.size(), thread_count(), cpu::micro_kernel().name, tuning.seconds,
             tuning.cache_hits ? fmt::format(", {} reused from the timing cache", tuning.cache_hits) : "");
  if (on_gpu && cuda::tactic_settings().device)
    fmt::print("        {} of them on the GPU: {}\n", on_gpu, cuda::tactic_settings().device->description());
  for (const std::string& w : tuning.warnings) fmt::print("warning: {}\n", w);
  if (!table) return;
  const Graph& g = model.graph();
  fmt::print("\ntactics (median ms on the node's shapes; * chosen, c chosen from the timing cache):\n");
  for (const cpu::NodeTuning& t : tuning.nodes) {
    fmt::print("  {}\n", node_label(g, g.nodes[t.node]));
    double reference_ms = -1;
    for (const cpu::CandidateTime& c : t.candidates) {
      if (c.tactic == "reference") reference_ms = c.median_ms;
      const char* mark = c.tactic == t.chosen ? (t.from_cache ? "c" : "*") : " ";
      if (c.median_ms < 0) fmt::print("    {} {:<22} {:>10}  {}\n", mark, c.tactic, "-", c.note);
      else if (c.tactic != "reference" && reference_ms > 0)
        fmt::print("    {} {:<22} {:>10.3f}  {:.1f}x the reference\n", mark, c.tactic, c.median_ms, reference_ms / c.median_ms);
      else fmt::print("    {} {:<22} {:>10.3f}\n", mark, c.tactic, c.median_ms);
    }
  }
}

// A progress line for tuning: redrawn in place on a terminal, a few plain lines otherwise.
std::function<void(size_t, size_t, const Node&)> tuning_progress() {
  const bool terminal = isatty(fileno(stdout));
  return [terminal](size_t done, size_t total, const Node& node) {
    if (terminal) {
      const int width = 30, filled = int(double(done + 1) / double(total) * width);
      fmt::print("\r  tuning [{}{}] {}/{} {:<40.40}", std::string(size_t(filled), '#'), std::string(size_t(width - filled), '.'),
                 done + 1, total, node.name);
      if (done + 1 == total) fmt::print("\r{:<90}\r", "");
    } else if (total >= 10 && (done + 1) % ((total + 3) / 4) == 0) {
      fmt::print("  tuning: {}/{} nodes\n", done + 1, total);
    }
    std::fflush(stdout);
  };
}

// What running the model holds besides its inputs and outputs, known before it runs.
static void print_static_memory(const Model& model) {
  const Graph& g = model.graph();
  double weights = 0, io = 0, held = 0;
  for (ValueId id : g.consts())
    if (const Value& v = g.value(id); v.data) weights += double(v.data->nbytes());
  for (const auto* list : {&g.inputs, &g.outputs})
    for (ValueId id : *list)
      if (g.type(id).shape.fully_known()) io += double(product(g.type(id).shape.concrete()) * int64_t(dtype_size(g.type(id).dtype)));
  for (const NodeKernel* k : model.kernels())
    if (k) held += double(k->held_bytes());
  const double arena = model.memory_plan() ? double(model.memory_plan()->arena_bytes) : 0;
  const double mib = 1 << 20;
  fmt::print("static memory: weights {:.2f} MiB, activations {:.2f} MiB (arena) + {:.2f} MiB (inputs and outputs), "
             "workspace {:.2f} MiB (weights packed for their tactics); {:.2f} MiB in all\n",
             weights / mib, arena / mib, io / mib, held / mib, (weights + arena + io + held) / mib);
}

int cmd_compile(const std::vector<std::string>& argv) {
  // `nnc compile MODEL --int8 --calib DIR [--accuracy-budget X] ...` is nnc quantize's job.
  if (std::find(argv.begin(), argv.end(), "--int8") != argv.end()) {
    std::vector<std::string> rest;
    for (const std::string& a : argv)
      if (a != "--int8") rest.push_back(a);
    return cmd_quantize(rest);
  }
  const Args args(argv, with({"--list-passes", "-v", "--tactics"}, kPipelineFlags), with({"-o"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc compile MODEL [-O0..-O3] [--passes A,B] [--disable-pass NAME] [--dump-passes DIR]\n"
        "                         [--explain PASS] [--verify-passes] [--input-shape NAME:DxD...] [-o OUT.nnc] [-v]\n"
        "                         [--threads N] [--tactics] [--no-tune] [--timing-cache FILE] [-o OUT.nncplan]\n"
        "       nnc compile MODEL --int8 --calib DIR [--accuracy-budget X] ... -o OUT.nncplan   (nnc quantize)\n"
        "       nnc compile --list-passes\n\n"
        "Imports MODEL (.onnx or IR text), runs the optimisation passes and prints, per pass, the time\n"
        "it took and what it changed. -o OUT.nncplan writes a compiled plan (graph, weights, chosen\n"
        "tactics) that run and bench load directly; -o OUT.nnc writes the optimised graph as IR text.\n"
        "-v prints every rewrite and refusal. Then every Conv/MatMul/Gemm is autotuned: each fast CPU tactic that can run it is\n"
        "timed on its real shapes and checked against the reference kernel; --tactics prints the table.\n\n"
        "options:\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.flag("--list-passes")) {
    fmt::print("{:<34} {:>3}  {}\n", "pass", "-O", "what it does");
    // With the two that only nnc quantize adds, marked so.
    const std::vector<PassInfo> plain = pass_table();
    for (const PassInfo& p : pass_table(std::make_shared<QuantizationTable>(), true)) {
      const bool quantize_only = std::none_of(plain.begin(), plain.end(), [&](const PassInfo& q) { return q.name == p.name; });
      fmt::print("{:<34} {:>3}  {}{}\n", p.name, p.level, p.what, quantize_only ? " [nnc quantize]" : "");
    }
    return 0;
  }
  if (args.positionals().size() != 1) usage_error("nnc compile MODEL (see --help)");
  LoadOptions options = load_options(args);
  const bool verbose = args.flag("-v");
  options.passes.on_pass = [&](const PassReport& r) {
    fmt::print("  {:<34} {:>8.1f} ms  {}\n", r.pass(), r.milliseconds(), r.summary_text());
    if (verbose)
      for (const std::string& note : r.notes()) fmt::print("      {}\n", note);
    std::fflush(stdout);
  };
  options.tuning.progress = tuning_progress();
  const std::string path = args.positionals()[0];
  fmt::print("compiling {} (-O{})\n", path, options.passes.level);
  const auto start = std::chrono::steady_clock::now();
  const Model model = load_model(path, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const PipelineResult& result = model.optimization();

  if (!options.passes.explain.empty()) {
    fmt::print("\n--explain {}:\n", options.passes.explain);
    for (const PassReport& r : result.reports)
      if (r.pass() == options.passes.explain) {
        if (r.notes().empty()) fmt::print("  it found nothing to do\n");
        for (const std::string& note : r.notes()) fmt::print("  {}\n", note);
      }
    if (!result.explanation.empty()) fmt::print("\nIR lines removed (-) and added (+):\n");
    for (const std::string& line : result.explanation) fmt::print("  {}\n", line);
  }
  if (!result.verification.empty()) {
    fmt::print("\n--verify-passes (seeded random inputs, against the unoptimised graph):\n");
    for (const std::string& line : result.verification) fmt::print("  {}\n", line);
  }
  const Graph& g = model.graph();
  fmt::print("\n{} nodes, {} constants after optimisation ({:.2f} s)\n", g.nodes.size(), g.consts().size(), seconds);
  if (model.memory_plan()) fmt::print("{}\n", describe(*model.memory_plan()));
  print_static_memory(model);
  print_tuning_summary(model, args.flag("--tactics"));
  if (!options.passes.dump_dir.empty())
    fmt::print("pass dumps written to {}/ (summary.txt, NN-<pass>.nnc, .dot)\n", options.passes.dump_dir.string());
  if (args.has("-o")) {
    const std::string out_path = args.get("-o");
    if (out_path.ends_with(".nncplan")) {
      save_plan(model, out_path);
      fmt::print("plan written to {} ({:.1f} MiB): nnc run/bench load it without optimising or tuning\n", out_path,
                 double(std::filesystem::file_size(out_path)) / (1 << 20));
    } else {
      std::ofstream out(out_path);
      out << print_ir(g);
      if (!out) fail(ErrorKind::Runtime, "-o: cannot write {}", out_path);
      fmt::print("optimised IR written to {}\n", out_path);
    }
  }
  return 0;
}

}  // namespace nnc::cli
