// tools/cli/commands.h — one function per `nnc` subcommand; each returns the exit code
// (0 ok; errors are thrown as nnc::Error and mapped to 1 or 2 by main).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/api.h"
#include "models/image_io.h"
#include "tools/cli/args.h"

namespace nnc::cli {

int cmd_inspect(const std::vector<std::string>& argv);
int cmd_run(const std::vector<std::string>& argv);
int cmd_compile(const std::vector<std::string>& argv);
int cmd_conformance(const std::vector<std::string>& argv);
int cmd_bench(const std::vector<std::string>& argv);
int cmd_u2net(const std::vector<std::string>& argv);
int cmd_deblur(const std::vector<std::string>& argv);
int cmd_petr(const std::vector<std::string>& argv);
int cmd_bevformer(const std::vector<std::string>& argv);
int cmd_compare(const std::vector<std::string>& argv);
int cmd_quantize(const std::vector<std::string>& argv);

// The model's inputs from --input NAME=FILE options (inspect_run.cpp): .npy, .pb, images (with
// --mean/--std/--size) or `random`; inputs not named are random when `missing_are_random`, an
// error otherwise. `image_size` receives the first image's size before resizing.
std::map<std::string, Tensor> collect_inputs(const Graph& g, const Args& args, bool missing_are_random,
                                             std::optional<std::pair<int, int>>& image_size);

// Image preprocessing from --mean/--std/--size (models/input_files.h reads the files).
Preprocess preprocess_options(const Args& args);

// The image pipelines (u2net.cpp): tuning results persist in $XDG_CACHE_HOME/nnc/timing-cache
// (~/.cache/nnc/) unless --timing-cache or --no-tune says otherwise.
void use_default_timing_cache(const Args& args, LoadOptions& options);
// Usage error unless `path`'s directory exists (checked before any slow work).
void check_output_path(const std::string& option, const std::filesystem::path& path);

// Shared by compile, run and bench (compile.cpp): the tuning summary line (and with `table`,
// every node's candidates), and a progress callback for tuning.
void print_tuning_summary(const Model& model, bool table);
std::function<void(size_t, size_t, const Node&)> tuning_progress();

}  // namespace nnc::cli
