// backends/cpu/tuner.cpp — see tuner.h.
#include "backends/cpu/tuner.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "backends/cpu/tactic.h"
#include "backends/cpu/timing_cache.h"
#include "core/compare.h"

namespace nnc::cpu {
namespace {

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// Runs `once` until `runs` timings are in (fewer when one run is slow: the budget is about a
// quarter second per candidate) and returns the median. A candidate whose first run already
// takes over `give_up_ms` cannot win and is not timed further.
double median_ms(const std::function<void()>& once, int runs, double give_up_ms = INFINITY) {
  std::vector<double> times;
  const auto start = Clock::now();
  for (int i = 0; i < runs; ++i) {
    const auto t = Clock::now();
    once();
    times.push_back(elapsed_ms(t));
    if (times.size() == 1 && times[0] > give_up_ms) return times[0];
    if (elapsed_ms(start) > 250 && times.size() >= 2) break;
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

struct NodeInputs {
  std::vector<Tensor> owned;  // random stand-ins for computed inputs
  std::vector<const Tensor*> pointers;
};

NodeInputs make_inputs(const Graph& graph, const Node& node, uint64_t seed) {
  NodeInputs in;
  in.owned.reserve(node.inputs.size());
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == kNoValue) {
      in.pointers.push_back(nullptr);
      continue;
    }
    const Value& v = graph.value(node.inputs[i]);
    if (v.kind == ValueKind::Const && v.data) {
      in.pointers.push_back(v.data.get());
      continue;
    }
    in.owned.push_back(random_tensor(v.type.dtype, v.type.shape.concrete(), seed + i));
    in.pointers.push_back(&in.owned.back());
  }
  return in;
}

// Takes a node's choice from the timing cache: true if there was an entry and its tactic still
// exists and accepts the node (then `kernel` is prepared), false to tune the node afresh.
bool use_cached(const Graph& graph, const Node& node, const TimingCache::Entry* entry, NodeTuning& tuning,
                std::shared_ptr<const NodeKernel>& kernel) {
  if (!entry) return false;
  if (entry->chosen != "reference") {
    const Tactic* chosen = nullptr;
    for (const Tactic& t : registered_tactics())
      if (t.op == node.op && t.name == entry->chosen && t.rejects(graph, node).empty()) chosen = &t;
    if (!chosen) return false;
    kernel = chosen->prepare(graph, node);
  }
  tuning.chosen = entry->chosen;
  tuning.candidates = entry->candidates;
  tuning.from_cache = true;
  return true;
}

}  // namespace

std::vector<const NodeKernel*> TuningResult::kernel_pointers() const {
  std::vector<const NodeKernel*> out;
  for (const auto& k : kernels) out.push_back(k.get());
  return out;
}

TuningResult tune(const Graph& graph, const TuneOptions& options) {
  const auto start = Clock::now();
  TuningResult result;
  result.kernels.resize(graph.nodes.size());
  // Always a cache, so identical layers of one model are timed once; from and to a file only
  // when asked.
  TimingCache cache;
  if (!options.cache_file.empty()) {
    cache = TimingCache::load(options.cache_file);
    for (const std::string& w : cache.warnings()) result.warnings.push_back(w);
  }

  // Which nodes have candidates at all (so progress can count them).
  std::vector<size_t> tunable;
  for (size_t n = 0; n < graph.nodes.size(); ++n)
    for (const Tactic& t : registered_tactics())
      if (t.op == graph.nodes[n].op) {
        tunable.push_back(n);
        break;
      }

  for (size_t index = 0; index < tunable.size(); ++index) {
    const size_t n = tunable[index];
    const Node& node = graph.nodes[n];
    if (options.progress) options.progress(index, tunable.size(), node);
    NodeTuning tuning{.node = n};
    const std::string signature = TimingCache::signature(graph, node);
    const bool exclusive = !options.exclusive_prefix.empty() && [&] {
      for (const Tactic& t : registered_tactics())
        if (t.op == node.op && t.name.starts_with(options.exclusive_prefix) && t.rejects(graph, node).empty()) return true;
      return false;
    }();
    // (A cached choice was made among all candidates: not what an exclusive choice asks for.)
    if (!exclusive && use_cached(graph, node, cache.find(signature), tuning, result.kernels[n])) {
      ++result.cache_hits;
      result.nodes.push_back(std::move(tuning));
      continue;
    }

    std::vector<const Tactic*> eligible;
    std::vector<CandidateTime> refused;
    for (const Tactic& t : registered_tactics()) {
      if (t.op != node.op) continue;
      std::string why = t.rejects(graph, node);
      if (why.empty() && exclusive && !t.name.starts_with(options.exclusive_prefix))
        why = fmt::format("not a {} tactic", options.exclusive_prefix);
      if (why.empty()) eligible.push_back(&t);
      else refused.push_back({std::string(t.name), -1, std::move(why)});
    }
    // Random stand-ins need concrete shapes (a graph with free input dims is not tunable).
    for (ValueId v : node.inputs)
      if (v != kNoValue && !graph.type(v).shape.fully_known()) eligible.clear();
    if (eligible.empty()) {
      tuning.chosen = "reference";
      tuning.candidates.push_back({"reference", -1, "only candidate"});
      for (CandidateTime& c : refused) tuning.candidates.push_back(std::move(c));
      result.nodes.push_back(std::move(tuning));
      continue;
    }

    const NodeInputs inputs = make_inputs(graph, node, 1000 + n);
    std::vector<Tensor> expected;
    const auto reference_start = Clock::now();
    expected = run_node(node, inputs.pointers, graph.opset);
    double reference_ms = elapsed_ms(reference_start);
    if (reference_ms < 50)  // cheap enough to time properly
      reference_ms = median_ms([&] { (void)run_node(node, inputs.pointers, graph.opset); }, options.runs);
    tuning.candidates.push_back({"reference", reference_ms, ""});
    double best_ms = options.prefer_tactics || exclusive ? INFINITY : reference_ms;
    tuning.chosen = "reference";

    // Outputs are allocated once per node and reused by every run, as in a planned graph.
    std::vector<Tensor> outputs;
    for (const Tensor& t : expected) outputs.emplace_back(t.dtype(), t.dims());
    const OutputAllocator reuse = [&](int i, const TensorType&) { return outputs[size_t(i)]; };

    for (const Tactic* t : eligible) {
      std::shared_ptr<const NodeKernel> kernel = t->prepare(graph, node);
      CandidateTime candidate{std::string(t->name), -1, ""};
      (void)run_node(node, inputs.pointers, graph.opset, nullptr, reuse, kernel.get());
      for (size_t i = 0; i < outputs.size() && candidate.note.empty(); ++i) {
        const Difference d = compare(outputs[i], expected[i]);
        if (!(d.rel_l2 <= (t->tolerance > 0 ? t->tolerance : options.tolerance)))
          candidate.note = fmt::format("rejected: output {} differs from the reference kernel's (rel L2 {:.2e})", i,
                                       d.rel_l2);
      }
      if (!candidate.note.empty()) {
        result.warnings.push_back(fmt::format("{}: tactic {} {}", describe(node), t->name, candidate.note));
        tuning.candidates.push_back(std::move(candidate));
        continue;
      }
      candidate.median_ms = median_ms(
          [&] { (void)run_node(node, inputs.pointers, graph.opset, nullptr, reuse, kernel.get()); }, options.runs,
          2 * best_ms);
      if (candidate.median_ms < best_ms) {
        best_ms = candidate.median_ms;
        tuning.chosen = candidate.tactic;
        result.kernels[n] = kernel;
      }
      tuning.candidates.push_back(std::move(candidate));
    }
    for (CandidateTime& c : refused) tuning.candidates.push_back(std::move(c));
    if (!exclusive) cache.put(signature, {tuning.chosen, tuning.candidates});
    result.nodes.push_back(std::move(tuning));
  }
  if (!options.cache_file.empty()) cache.save(options.cache_file);
  result.seconds = elapsed_ms(start) / 1000;
  return result;
}

}  // namespace nnc::cpu
