// passes/pipeline.h — the pass manager: runs the pass table (pipeline.cpp) top to bottom.
//
// The manager, not the passes, handles optimisation levels, disabled passes, timing, the
// verifier between passes and the teaching dumps: with `dump_dir` set, it writes
// `00-input.nnc` and then `NN-<pass>.nnc` after every pass that changed the graph, so
// neighbouring dumps differ by exactly one pass.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "passes/pass_report.h"

namespace nnc {

using PassFn = PassReport (*)(Graph&);

struct PassInfo {
  const char* name;  // fold-constants (file fold_constants.cpp, function fold_constants)
  PassFn run;
  int level;         // runs at -O<level> and above
  const char* what;
};

std::vector<PassInfo> pass_table();

struct PipelineOptions {
  int level = 1;                      // -O0 runs nothing
  std::set<std::string> disabled;     // --disable-pass NAME
  std::filesystem::path dump_dir;     // --dump-passes DIR (empty: no dumps)
  bool verify_each = true;            // run the verifier after every pass that changed the graph
};

// Runs the pipeline; returns one report per pass that ran. Throws BadInput for an unknown
// pass name in `disabled`, Internal if a pass leaves the graph ill-formed.
std::vector<PassReport> run_pipeline(Graph& graph, const PipelineOptions& options);

}  // namespace nnc
