// passes/bisect_passes.cpp — see bisect_passes.h.
#include "passes/bisect_passes.h"

#include <cmath>
#include <fstream>

#include "core/ir_text.h"
#include "ops/interpreter.h"

namespace nnc {

Difference worst_difference(std::span<const Tensor> outputs, std::span<const Tensor> expected) {
  check_internal(outputs.size() == expected.size(), "worst_difference: output counts differ");
  Difference worst;
  for (size_t i = 0; i < outputs.size(); ++i) {
    Difference d;
    if (outputs[i].dims() != expected[i].dims()) {
      d.rel_l2 = d.max_abs = INFINITY;
      d.cosine = 0;
    } else {
      d = compare(outputs[i], expected[i]);
    }
    if (i == 0 || d.rel_l2 > worst.rel_l2 || (d.max_abs == INFINITY && worst.max_abs != INFINITY)) worst = d;
  }
  return worst;
}

bool beyond(const Difference& d, double tolerance) { return !(d.rel_l2 <= tolerance) || d.max_abs == INFINITY; }

BisectResult bisect_passes(const Graph& imported, std::span<const Tensor> inputs, PipelineOptions options,
                           double tolerance, const std::filesystem::path& dump_dir) {
  struct Snapshot {
    std::string pass;
    Graph graph;
  };
  std::vector<Snapshot> snapshots = {{"input", imported}};
  options.dump_dir.clear();
  options.verify_numerics = false;
  options.on_change = [&](const PassInfo& pass, const Graph& g) { snapshots.push_back({pass.name, g}); };
  Graph optimised = imported;
  run_pipeline(optimised, options);

  BisectResult result;
  result.changed_passes = int(snapshots.size()) - 1;
  const std::vector<Tensor> expected = run_reference(imported, inputs);
  std::vector<std::optional<Difference>> drift(snapshots.size());
  drift[0] = Difference{};
  auto evaluate = [&](size_t k) -> const Difference& {
    if (!drift[k]) {
      drift[k] = worst_difference(run_reference(snapshots[k].graph, inputs), expected);
      result.log.push_back(fmt::format("after {:<34} rel L2 {:.3g}  max abs {:.3g}{}", snapshots[k].pass,
                                       drift[k]->rel_l2, drift[k]->max_abs,
                                       beyond(*drift[k], tolerance) ? "  beyond the tolerance" : ""));
    }
    return *drift[k];
  };
  const size_t last = snapshots.size() - 1;
  if (last == 0 || !beyond(evaluate(last), tolerance)) return result;
  size_t good = 0, bad = last;  // drift(good) within, drift(bad) beyond
  while (bad - good > 1) {
    const size_t mid = (good + bad) / 2;
    (beyond(evaluate(mid), tolerance) ? bad : good) = mid;
  }
  result.found = true;
  result.pass = snapshots[bad].pass;
  result.index = int(bad);
  result.before = evaluate(good);
  result.after = evaluate(bad);
  std::error_code ec;
  std::filesystem::create_directories(dump_dir, ec);
  if (ec) fail(ErrorKind::Runtime, "cannot create {}: {}", dump_dir.string(), ec.message());
  result.before_dump = dump_dir / fmt::format("{:02d}-{}.nnc", good, snapshots[good].pass);
  result.after_dump = dump_dir / fmt::format("{:02d}-{}.nnc", bad, snapshots[bad].pass);
  for (const auto& [path, k] : {std::pair{result.before_dump, good}, std::pair{result.after_dump, bad}}) {
    std::ofstream out(path);
    out << print_ir(snapshots[k].graph);
    if (!out) fail(ErrorKind::Runtime, "cannot write {}", path.string());
  }
  return result;
}

}  // namespace nnc
