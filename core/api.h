// core/api.h — the embedding API: load a model, create a session, run with named tensors.
//
//   nnc::Model model = nnc::load_model("u2netp.onnx");
//   nnc::Session session(model);
//   nnc::Tensor image(nnc::DType::F32, {1, 3, 320, 320});
//   std::map<std::string, nnc::Tensor> out = session.run({{"input", image}});
//   const float* mask = out.at("d0").data<float>();
//
// Errors are nnc::Error (core/error.h) with a kind and a message naming the file and node.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/graph.h"
#include "core/transfer_stats.h"
#include "core/memory_plan.h"
#include "core/tensor.h"
#include "backends/cpu/tuner.h"
#include "ops/interpreter.h"
#include "passes/pipeline.h"

namespace nnc::cuda {
class GraphReplay;  // backends/cuda/graph_replay.h
}

namespace nnc {

struct LoadOptions {
  // Fixes symbolic input dims: {"input", {1, 3, 320, 320}}.
  std::map<std::string, Dims> input_shapes;
  // Fold constants and shape subgraphs at load time (the graph as written when false).
  bool fold_constants = true;
  // The pass pipeline run after import (passes/pipeline.h): -O level (default 2, 0 = none),
  // --passes, --disable-pass, dumps, --explain, --verify-passes, progress.
  PipelineOptions passes;
  // Plan one arena for the intermediates (passes/plan_memory.h) and run by it. Never at -O0,
  // which runs the graph as imported with a fresh allocation per tensor.
  bool plan_memory = true;
  // Choose each node's kernel by timing the fast CPU tactics on its shapes (backends/cpu/
  // tuner.h). Like memory planning, only when passes run: -O0 is the reference kernels.
  bool tune = true;
  cpu::TuneOptions tuning;
};

// Threads the CPU kernels use (default: every core this process may run on). Set it before
// loading a model: tuning times the kernels with this many threads.
void set_thread_count(int threads);
int thread_count();

// A loaded model: the verified IR graph with every type inferred.
class Model {
 public:
  explicit Model(Graph graph, std::string source = "", PipelineResult optimization = {},
                 std::optional<MemoryPlan> memory_plan = std::nullopt, cpu::TuningResult tuning = {},
                 std::string build_options = "")
      : graph_(std::move(graph)),
        source_(std::move(source)),
        build_options_(std::move(build_options)),
        optimization_(std::move(optimization)),
        memory_plan_(std::move(memory_plan)),
        tuning_(std::move(tuning)),
        kernels_(tuning_.kernel_pointers()) {}
  const Graph& graph() const { return graph_; }
  const std::string& source() const { return source_; }
  // The options that shaped it, as one line (`-O2 disable=... input_shape=...`): a plan records
  // them, `nnc inspect PLAN` shows them.
  const std::string& build_options() const { return build_options_; }
  std::vector<std::string> input_names() const;
  std::vector<std::string> output_names() const;
  // What the pass pipeline did to the imported graph (one report per pass).
  const PipelineResult& optimization() const { return optimization_; }
  // Where the intermediates live, if planned (see LoadOptions::plan_memory).
  const std::optional<MemoryPlan>& memory_plan() const { return memory_plan_; }
  // The kernel chosen for each node and the timings behind the choice (empty when not tuned).
  const cpu::TuningResult& tuning() const { return tuning_; }
  // Per node: the chosen fast kernel, or nullptr for the reference kernel (empty: all reference).
  std::span<const NodeKernel* const> kernels() const { return kernels_; }

 private:
  Graph graph_;
  std::string source_;
  std::string build_options_;
  PipelineResult optimization_;
  std::optional<MemoryPlan> memory_plan_;
  cpu::TuningResult tuning_;
  std::vector<const NodeKernel*> kernels_;
};

// The options in one deterministic line, as Model::build_options() reports them.
std::string describe_options(const LoadOptions& options);

// Loads an ONNX model (.onnx), an IR text file or a compiled plan (.nncplan, core/plan_file.h),
// recognised by content, not extension. A plan loads as compiled: `options` do not apply.
Model load_model(const std::filesystem::path& path, const LoadOptions& options = {});

// Runs a model: every node on the kernel tuning chose for it (reference kernels at -O0), the
// intermediates in the planned arena.
// The arena of intermediates is kept between runs; runs from several threads at once each get
// their own.
class Session {
 public:
  explicit Session(const Model& model) : model_(model), arenas_(std::make_shared<ArenaPool>()) {}
  // Every graph input must be given, by name; returns every graph output by name. `timer`, if
  // given, hears each node's wall time (nnc bench --profile); `tap` sees every tensor a node
  // writes (nnc compare), valid only during the call: the arena reuses its bytes afterwards.
  std::map<std::string, Tensor> run(const std::map<std::string, Tensor>& inputs, const NodeTimer& timer = nullptr,
                                    const TensorTap& tap = nullptr) const;
  // What the last run copied between host and GPU (all zero when every node ran on the CPU).
  TransferStats last_transfers() const {
    std::lock_guard lock(arenas_->mutex);
    return last_transfers_;
  }

 private:
  struct ArenaPool {
    std::mutex mutex;
    std::vector<std::shared_ptr<std::byte>> idle;
  };
  const Model& model_;
  std::shared_ptr<ArenaPool> arenas_;
  mutable TransferStats last_transfers_;
  // A model wholly on the GPU is recorded once and replayed (made on the first run that can).
  mutable std::shared_ptr<cuda::GraphReplay> replay_;
  mutable bool replay_considered_ = false;
};

}  // namespace nnc
