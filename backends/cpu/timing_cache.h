// backends/cpu/timing_cache.h — what tuning learned, kept in a file so the next compile of the
// same model (or of another model with the same layers) reuses it instead of timing again.
//
// One entry per node signature: the op, its attributes, every input's type (and whether it is a
// constant), the CPU's name, its instruction set, the thread count and the nnc version; a
// weight's values do not matter to speed and are not part of it, so one cache serves every model
// with the same layers. Entries of another nnc version stay in the file, unused, with a note. The file is text, one entry per line:
//
//   nnc-timing-cache 1
//   <signature>\t<chosen tactic>\t<tactic>=<median ms>,<tactic>=<median ms>,...
//
// Lines that do not parse are skipped with a warning, so a damaged cache costs a re-tune, never
// a failure. A cached choice is prepared without timing or checking it again: it was checked
// against the reference kernel when it was tuned.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "backends/cpu/tuner.h"
#include "core/graph.h"

namespace nnc::cpu {

class TimingCache {
 public:
  struct Entry {
    std::string chosen;
    std::vector<CandidateTime> candidates;
  };

  // Reads `path` if it exists (an absent file is an empty cache). Unparsable lines are skipped
  // and reported in warnings().
  static TimingCache load(const std::filesystem::path& path);
  // Writes every entry (to a temporary file renamed over `path`). Throws Runtime on failure.
  void save(const std::filesystem::path& path) const;

  // The signature tuning results are filed under (see the top of this file).
  static std::string signature(const Graph& graph, const Node& node);

  const Entry* find(const std::string& signature) const;
  void put(const std::string& signature, Entry entry) { entries_[signature] = std::move(entry); }
  size_t size() const { return entries_.size(); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::map<std::string, Entry> entries_;
  std::vector<std::string> warnings_;
};

}  // namespace nnc::cpu
