// tools/cli/bench.cpp — `nnc bench`: latency statistics in the spirit of trtexec.
//
// Loads (optimises, tunes) the model once, runs --warmup untimed iterations, then --iters timed
// ones on the same inputs, and reports median / p90 / min / mean latency, throughput and the
// process's peak resident memory. --profile times every node and prints trtexec's layer table;
// --json prints one JSON object instead of the human report.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "ops/cost.h"
#include "tools/cli/commands.h"
#include "tools/cli/json.h"
#include "tools/cli/pipeline_flags.h"

namespace nnc::cli {
namespace {

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}


double percentile(std::vector<double> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  const double rank = p * double(sorted.size() - 1);
  const size_t lo = size_t(rank), hi = std::min(sorted.size() - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - double(lo));
}

struct NodeProfile {
  size_t node;
  double ms;  // mean per iteration
};

}  // namespace

int cmd_bench(const std::vector<std::string>& argv) {
  const Args args(argv, with({"--profile", "--json"}, kPipelineFlags),
                  with({"--iters", "--warmup", "--input", "--seed", "--mean", "--std", "--size"}, kPipelineOptions));
  if (args.help()) {
    fmt::print(
        "usage: nnc bench MODEL [--iters N] [--warmup N] [--threads T] [--input NAME=FILE ...]\n"
        "                 [--input-shape NAME:DxD...] [--profile] [--json] [-O0..-O3]\n\n"
        "Optimises and tunes MODEL as nnc run does, runs --warmup untimed iterations (default 3), then\n"
        "--iters timed ones (default 20) on the same inputs, and prints latency median / p90 / min /\n"
        "mean, throughput and peak resident memory. Inputs not given are seeded random.\n"
        "--profile times every node: a table of the slowest nodes (time, share, GFLOP/s, tactic) and\n"
        "the time per op type. --json prints one JSON object: median_ms, p90_ms, min_ms, mean_ms,\n"
        "times_ms, threads, peak_rss_mb, tune_s (and with --profile a `profile` array: node, op, ms, gflop,\n"
        "tactic). When nodes run on a GPU it also reports, per inference, the time and bytes of the\n"
        "host-to-device and device-to-host copies (JSON: h2d_ms, h2d_bytes, d2h_ms, d2h_bytes).\n\noptions:\n{}",
        kPipelineHelp);
    return 0;
  }
  if (args.positionals().size() != 1) usage_error("nnc bench MODEL (see --help)");
  const int iters = args.get_int("--iters", 20, 1, 1000000);
  const int warmup = args.get_int("--warmup", 3, 0, 1000000);
  const bool json = args.flag("--json"), profile = args.flag("--profile");

  LoadOptions options = load_options(args);
  if (!json) options.tuning.progress = tuning_progress();
  const Model model = load_model(args.positionals()[0], options);
  const Graph& g = model.graph();
  std::optional<std::pair<int, int>> image_size;
  const std::map<std::string, Tensor> inputs = collect_inputs(g, args, /*missing_are_random=*/true, image_size);
  const Session session(model);

  for (int i = 0; i < warmup; ++i) (void)session.run(inputs);
  std::vector<double> node_ms(g.nodes.size(), 0.0);
  const NodeTimer timer = [&](size_t n, double ms) { node_ms[n] += ms; };
  std::vector<double> times;
  TransferStats copies;  // summed over the timed runs (GPU nodes only)
  int replays = 0;       // timed runs that replayed a recorded CUDA graph
  for (int i = 0; i < iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    (void)session.run(inputs, profile ? timer : nullptr);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    const TransferStats t = session.last_transfers();
    copies.uploads += t.uploads, copies.upload_bytes += t.upload_bytes, copies.upload_ms += t.upload_ms;
    copies.downloads += t.downloads, copies.download_bytes += t.download_bytes, copies.download_ms += t.download_ms;
    replays += t.graph_replay;
  }
  const bool on_gpu = copies.uploads + copies.downloads > 0;
  const double median = percentile(times, 0.5), p90 = percentile(times, 0.9);
  const double minimum = *std::min_element(times.begin(), times.end());
  const double mean = std::accumulate(times.begin(), times.end(), 0.0) / double(times.size());

  std::vector<NodeProfile> nodes;
  for (size_t n = 0; n < g.nodes.size(); ++n) nodes.push_back({n, node_ms[n] / iters});
  std::sort(nodes.begin(), nodes.end(), [](const NodeProfile& a, const NodeProfile& b) { return a.ms > b.ms; });
  const double profiled_total = std::accumulate(node_ms.begin(), node_ms.end(), 0.0) / iters;
  auto tactic_of = [&](size_t n) -> std::string {
    const auto kernels = model.kernels();
    return !kernels.empty() && kernels[n] ? std::string(kernels[n]->tactic()) : "reference";
  };

  if (json) {
    std::string out = fmt::format(
        "{{\"model\": {}, \"median_ms\": {:.4f}, \"p90_ms\": {:.4f}, \"min_ms\": {:.4f}, \"mean_ms\": {:.4f}, "
        "\"iters\": {}, \"warmup\": {}, \"threads\": {}, \"peak_rss_mb\": {:.1f}, \"tune_s\": {:.3f}, \"times_ms\": [",
        json_string(model.source()), median, p90, minimum, mean, iters, warmup, thread_count(), peak_rss_mb(),
        model.tuning().seconds);
    for (size_t i = 0; i < times.size(); ++i) out += fmt::format("{}{:.4f}", i ? ", " : "", times[i]);
    out += "]";
    if (on_gpu)
      out += fmt::format(", \"h2d_ms\": {:.4f}, \"h2d_bytes\": {}, \"d2h_ms\": {:.4f}, \"d2h_bytes\": {}, \"graph_replays\": {}",
                         copies.upload_ms / iters, copies.upload_bytes / iters, copies.download_ms / iters,
                         copies.download_bytes / iters, replays);
    if (profile) {
      out += ", \"profile\": [";
      for (size_t i = 0; i < nodes.size(); ++i) {
        const Node& node = g.nodes[nodes[i].node];
        out += fmt::format("{}{{\"node\": {}, \"op\": \"{}\", \"ms\": {:.4f}, \"gflop\": {:.6f}, \"tactic\": {}}}",
                           i ? ", " : "", json_string(node.name), op_name(node.op), nodes[i].ms,
                           estimate_flops(g, node) / 1e9, json_string(tactic_of(nodes[i].node)));
      }
      out += "]";
    }
    fmt::print("{}}}\n", out);
    return 0;
  }

  fmt::print("model       {}\nthreads     {}\n", model.source(), thread_count());
  if (!model.tuning().nodes.empty()) print_tuning_summary(model, false);
  fmt::print("iterations  {} timed after {} warm-up\n", iters, warmup);
  fmt::print("latency     median {:.3f} ms   p90 {:.3f} ms   min {:.3f} ms   mean {:.3f} ms\n", median, p90, minimum,
             mean);
  fmt::print("throughput  {:.2f} inferences/s\npeak memory {:.1f} MiB resident\n", 1000.0 / median, peak_rss_mb());
  if (on_gpu)  // per inference; the rest of the latency is the kernels and the CPU's nodes
    fmt::print("gpu copies  H2D {:.3f} ms ({:.2f} MiB in {} copies)   D2H {:.3f} ms ({:.2f} MiB in {} copies)   "
               "compute and CPU nodes {:.3f} ms\n",
               copies.upload_ms / iters, double(copies.upload_bytes) / iters / 1048576.0, copies.uploads / iters,
               copies.download_ms / iters, double(copies.download_bytes) / iters / 1048576.0, copies.downloads / iters,
               mean - (copies.upload_ms + copies.download_ms) / iters);
  if (replays) fmt::print("cuda graph  {} of {} timed runs replayed the recorded graph\n", replays, iters);
  if (!profile) return 0;

  fmt::print("\nprofile (mean per iteration; {:.3f} ms in nodes, the rest is the runtime's own work):\n",
             profiled_total);
  fmt::print("  {:>9} {:>6}  {:>8}  {:<20} {:<16} {}\n", "ms", "%", "GFLOP/s", "tactic", "op", "node");
  const size_t shown = std::min<size_t>(nodes.size(), 40);
  for (size_t i = 0; i < shown; ++i) {
    const Node& node = g.nodes[nodes[i].node];
    const double flops = estimate_flops(g, node);
    const std::string gflops = nodes[i].ms > 0 && flops > 0 ? fmt::format("{:.1f}", flops / nodes[i].ms / 1e6) : "";
    // A fused node also names the ONNX nodes it came from (its own name is its first source's).
    const std::string from = node.sources.size() > 1 ? fmt::format("  # from {}", fmt::join(node.sources, ", ")) : "";
    fmt::print("  {:>9.3f} {:>5.1f}%  {:>8}  {:<20} {:<16} {}{}\n", nodes[i].ms, 100 * nodes[i].ms / profiled_total,
               gflops, tactic_of(nodes[i].node), op_name(node.op), node.name, from);
  }
  if (nodes.size() > shown) fmt::print("  ... {} more nodes\n", nodes.size() - shown);
  std::map<std::string, std::pair<double, int>> by_op;
  for (const NodeProfile& p : nodes) {
    auto& [ms, count] = by_op[std::string(op_name(g.nodes[p.node].op))];
    ms += p.ms;
    ++count;
  }
  std::vector<std::pair<double, std::string>> ops;
  for (const auto& [op, entry] : by_op) ops.emplace_back(entry.first, op);
  std::sort(ops.rbegin(), ops.rend());
  fmt::print("\nby op type:\n");
  for (const auto& [ms, op] : ops)
    fmt::print("  {:<16} {:>9.3f} ms {:>5.1f}%  ({} nodes)\n", op, ms, 100 * ms / profiled_total, by_op[op].second);
  return 0;
}

}  // namespace nnc::cli
