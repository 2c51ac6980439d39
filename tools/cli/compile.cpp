// tools/cli/compile.cpp — `nnc compile`: import, run the pass pipeline and tell the story.
//
// Prints one line per pass (time, what it did), writes the teaching dumps with
// --dump-passes, the rewrite-by-rewrite account of one pass with --explain, the per-pass
// numeric check with --verify-passes, and the optimised IR with -o.
#include <chrono>
#include <fstream>

#include "core/api.h"
#include "passes/plan_memory.h"
#include "core/ir_text.h"
#include "tools/cli/commands.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {

int cmd_compile(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--list-passes", "-v"}, kPipelineFlags), with({"-o"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc compile MODEL [-O0..-O3] [--passes A,B] [--disable-pass NAME] [--dump-passes DIR]\n"
        "                         [--explain PASS] [--verify-passes] [--input-shape NAME:DxD...] [-o OUT.nnc] [-v]\n"
        "       nnc compile --list-passes\n\n"
        "Imports MODEL (.onnx or IR text), runs the optimisation passes and prints, per pass, the time\n"
        "it took and what it changed. -o writes the optimised graph as IR text; -v prints every rewrite\n"
        "and refusal.\n\noptions:\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.flag("--list-passes")) {
    fmt::print("{:<34} {:>3}  {}\n", "pass", "-O", "what it does");
    for (const PassInfo& p : pass_table()) fmt::print("{:<34} {:>3}  {}\n", p.name, p.level, p.what);
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
  if (!options.passes.dump_dir.empty())
    fmt::print("pass dumps written to {}/ (summary.txt, NN-<pass>.nnc, .dot)\n", options.passes.dump_dir.string());
  if (args.has("-o")) {
    std::ofstream out(args.get("-o"));
    out << print_ir(g);
    if (!out) fail(ErrorKind::Runtime, "-o: cannot write {}", args.get("-o"));
    fmt::print("optimised IR written to {}\n", args.get("-o"));
  }
  return 0;
}

}  // namespace nnc::cli
