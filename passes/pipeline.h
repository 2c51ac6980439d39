// passes/pipeline.h — the pass manager: runs the pass table (pipeline.cpp) top to bottom.
//
// The manager, not the passes, handles optimisation levels, --passes / --disable-pass, timing,
// the verifier between passes, the numeric check of every pass (--verify-passes) and the
// teaching dumps: with `dump_dir` set it writes `00-input.nnc` and then `NN-<pass>.nnc` and
// `NN-<pass>.dot` after every pass that changed the graph (neighbouring dumps differ by exactly
// one pass), and `summary.txt` with one line per pass.
#pragma once

#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <memory>

#include "passes/insert_quantizers.h"
#include "passes/pass_report.h"

namespace nnc {

// A pass: a function of the graph alone (insert-quantizers carries its calibration table in).
using PassFn = std::function<PassReport(Graph&)>;

struct PassInfo {
  const char* name;  // fold-constants (file fold_constants.cpp, function fold_constants)
  PassFn run;
  int level;         // runs at -O<level> and above
  const char* what;
};

// The passes in order; with `quantization` (nnc quantize), insert-quantizers too, and with
// `equalize` (nnc quantize --cle) equalize-cross-layer.
std::vector<PassInfo> pass_table(std::shared_ptr<const QuantizationTable> quantization = nullptr, bool equalize = false);

struct PipelineOptions {
  int level = 2;                      // -O0 runs nothing
  std::vector<std::string> only;      // --passes a,b,c: exactly these, in this order (ignores level)
  std::set<std::string> disabled;     // --disable-pass NAME
  std::filesystem::path dump_dir;     // --dump-passes DIR (empty: no dumps)
  bool verify_each = true;            // run the verifier after every pass that changed the graph
  // --verify-passes: run the graph on seeded random inputs after every pass that changed it and
  // stop with an error naming the pass if it drifts from the unoptimised graph by more than
  // `verify_tolerance` (relative L2, any output).
  bool verify_numerics = false;
  double verify_tolerance = 1e-4;
  // --explain PASS: the pass whose before/after IR lines the reports carry in `explanation`.
  std::string explain;
  std::function<void(const PassReport&)> on_pass;  // progress, called after each pass
  // Called with the graph after every pass that changed it (and passed the verifier):
  // --bisect-passes keeps these snapshots.
  std::function<void(const PassInfo&, const Graph&)> on_change;
  // INT8 (nnc quantize): the calibrated ranges insert-quantizers puts Q/DQ pairs by; null: f32.
  std::shared_ptr<const QuantizationTable> quantization;
  // nnc quantize --cle: cross-layer equalization of Conv pairs (passes/equalize_cross_layer.cpp),
  // in the f32 model that is calibrated and in the INT8 one alike.
  bool equalize_cross_layer = false;
  // The passes to choose from; empty: pass_table(quantization). The C++ API's way to run passes of one's
  // own (and the tests' way to plant a broken one for --bisect-passes to find).
  std::vector<PassInfo> table;

  // Whether any pass runs at all (-O0 without --passes runs the graph exactly as imported).
  bool runs_any_pass() const { return level > 0 || !only.empty(); }
};

// What the pipeline did: one report per pass that ran, the IR line diff of the explained pass
// and, with verify_numerics, one line per changed pass with its drift.
struct PipelineResult {
  std::vector<PassReport> reports;
  std::vector<std::string> explanation;
  std::vector<std::string> verification;
};

// Runs the pipeline. Throws BadInput for an unknown pass name, Internal if a pass leaves the
// graph ill-formed or (verify_numerics) changes the results beyond the tolerance.
PipelineResult run_pipeline(Graph& graph, const PipelineOptions& options);

}  // namespace nnc
