// passes/bisect_passes.h — which pass changed the results? (`nnc compare --bisect-passes`)
//
// Runs the pipeline once, keeping the graph after every pass that changed it, then
// binary-searches those snapshots for the first whose outputs on the given inputs drift from
// the imported graph's beyond the tolerance. Every snapshot runs on the reference kernels, so
// only the passes differ: a tactic's error is `nnc compare`'s to find, not this. The search
// assumes that once the results are wrong they stay wrong, which holds for a pass that breaks
// them (later passes preserve what they are given); it evaluates about log2(passes) graphs.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "core/compare.h"
#include "passes/pipeline.h"

namespace nnc {

struct BisectResult {
  int changed_passes = 0;  // snapshots searched
  bool found = false;      // some pass drifts beyond the tolerance
  std::string pass;        // the first one that does
  int index = 0;           // its position among the passes that changed the graph (1-based)
  Difference before, after;  // the worst output's drift before and after it
  std::filesystem::path before_dump, after_dump;  // IR text of the graph before and after it
  std::vector<std::string> log;  // one line per snapshot evaluated, in the order run
};

// `inputs`: one tensor per graph input, in order. Writes the two dumps into `dump_dir`
// (created if needed) when a pass is found.
BisectResult bisect_passes(const Graph& imported, std::span<const Tensor> inputs, PipelineOptions options,
                           double tolerance, const std::filesystem::path& dump_dir);

// The worst drift of `outputs` from `expected` (the largest relative L2; a NaN or infinity
// where the other has a number counts as infinitely far).
Difference worst_difference(std::span<const Tensor> outputs, std::span<const Tensor> expected);
bool beyond(const Difference& d, double tolerance);

}  // namespace nnc
