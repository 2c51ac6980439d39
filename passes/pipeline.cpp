// passes/pipeline.cpp — the pass table, read top to bottom, and the manager that runs it.
#include "passes/pipeline.h"

#include <chrono>
#include <fstream>

#include "core/ir_text.h"
#include "ops/shape_inference.h"
#include "passes/eliminate_common_subexpressions.h"
#include "passes/eliminate_dead_code.h"
#include "passes/fold_batchnorm.h"
#include "passes/fold_constants.h"
#include "passes/fuse_gelu.h"
#include "passes/fuse_layer_norm.h"
#include "passes/remove_identities.h"

namespace nnc {

std::vector<PassInfo> pass_table() {
  return {
      // name                   function             -O  what it does
      {"fold-constants",       fold_constants,       1, "evaluate nodes whose inputs are all known"},
      {"remove-identities",    remove_identities,    1, "drop Identity, Dropout, no-op Cast/Reshape/Expand"},
      {"eliminate-common-subexpressions", eliminate_common_subexpressions, 1, "compute each distinct value once"},
      {"fold-batchnorm",       fold_batchnorm,       1, "fold BN and constant scale/shift into weights"},
      {"fuse-layer-norm",      fuse_layer_norm,      2, "spelled-out LayerNorm -> LayerNormalization"},
      {"fuse-gelu",            fuse_gelu,            2, "spelled-out GELU (erf or tanh form) -> Gelu"},
      {"eliminate-dead-code",  eliminate_dead_code,  1, "drop nodes and constants nothing uses"},
  };
}

namespace {

void write_dump(const std::filesystem::path& dir, int index, const std::string& name, const Graph& g) {
  const std::filesystem::path path = dir / fmt::format("{:02d}-{}.nnc", index, name);
  std::ofstream out(path);
  out << print_ir(g);
  if (!out) fail(ErrorKind::Runtime, "--dump-passes: cannot write {}", path.string());
}

}  // namespace

std::vector<PassReport> run_pipeline(Graph& graph, const PipelineOptions& options) {
  const std::vector<PassInfo> table = pass_table();
  for (const std::string& name : options.disabled) {
    bool known = false;
    for (const PassInfo& p : table) known = known || name == p.name;
    if (!known) {
      std::string names;
      for (const PassInfo& p : table) names += (names.empty() ? "" : ", ") + std::string(p.name);
      bad_input("--disable-pass {}: no such pass (passes: {})", name, names);
    }
  }
  if (!options.dump_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.dump_dir, ec);
    if (ec) fail(ErrorKind::Runtime, "--dump-passes: cannot create {}: {}", options.dump_dir.string(), ec.message());
    write_dump(options.dump_dir, 0, "input", graph);
  }
  std::vector<PassReport> reports;
  int dump_index = 1;
  for (const PassInfo& pass : table) {
    if (pass.level > options.level || options.disabled.contains(pass.name)) continue;
    const auto start = std::chrono::steady_clock::now();
    PassReport report = pass.run(graph);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    report.set_milliseconds(ms);
    if (report.changed()) {
      infer_types(graph);
      if (options.verify_each) {
        try {
          verify(graph);
        } catch (const Error& e) {
          fail(ErrorKind::Internal, "pass '{}' left an ill-formed graph: {}", pass.name, e.what());
        }
      }
      if (!options.dump_dir.empty()) write_dump(options.dump_dir, dump_index++, pass.name, graph);
    }
    reports.push_back(std::move(report));
  }
  return reports;
}

}  // namespace nnc
