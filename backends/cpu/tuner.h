// backends/cpu/tuner.h — per-node autotuning: for every node, time each tactic that can run it
// on the node's real shapes and keep the fastest.
//
// For each node with at least one eligible tactic: make seeded random inputs of its shapes
// (constants are the real weights), run the reference kernel once (its output is the check),
// then prepare each tactic, check its output against the reference (relative L2 within
// `tolerance`; a tactic that disagrees is rejected with a warning, never chosen), and time it:
// warm-up, then several runs, median. The reference kernel is a candidate like the others.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/graph.h"
#include "ops/interpreter.h"

namespace nnc::cpu {

struct CandidateTime {
  std::string tactic;     // "reference" or a Tactic's name
  double median_ms = -1;  // -1: not timed (rejected)
  std::string note;       // why it could not run, or why it was rejected
};

struct NodeTuning {
  size_t node = 0;                        // index in graph.nodes
  std::string chosen;                     // the fastest candidate
  std::vector<CandidateTime> candidates;  // reference first
  bool from_cache = false;
};

struct TuningResult {
  std::vector<std::shared_ptr<const NodeKernel>> kernels;  // per node; nullptr: reference
  std::vector<NodeTuning> nodes;                           // the nodes some tactic could run
  std::vector<std::string> warnings;                       // tactics rejected for wrong results
  double seconds = 0;
  size_t cache_hits = 0;  // nodes whose choice came from the cache (a file's, or an identical earlier node's)

  // Raw pointers for InterpreterOptions::kernels.
  std::vector<const NodeKernel*> kernel_pointers() const;
};

struct TuneOptions {
  int runs = 5;             // timed runs per candidate (fewer for slow ones)
  double tolerance = 1e-4;  // relative L2 against the reference kernel
  // Choose the fastest fast tactic that passes its check even where the reference kernel is
  // faster (so tests, e.g. `nnc conformance --kernels tactics`, exercise every tactic).
  bool prefer_tactics = false;
  // When a tactic whose name starts with this prefix can run a node, the choice is among those
  // alone (the reference still runs, as the check): `nnc --device cuda` ("cuda.") puts on the
  // GPU every node a GPU tactic can run. Empty: every candidate competes.
  std::string exclusive_prefix;
  // A timing cache file (backends/cpu/timing_cache.h): read before tuning, nodes found there are
  // not timed again, and new results are written back. Empty: no cache.
  std::filesystem::path cache_file;
  // Called before each tuned node: (index among tuned nodes, their count, the node).
  std::function<void(size_t, size_t, const Node&)> progress;
};

TuningResult tune(const Graph& graph, const TuneOptions& options = {});

}  // namespace nnc::cpu
