// tools/cli/pipeline_flags.h — the options every command that loads a model shares: input
// shapes and the pass pipeline (-O0..-O3, --passes, --disable-pass, --dump-passes, --explain,
// --verify-passes), tuning and the device.
#pragma once

#include <set>
#include <string>

#include "core/api.h"
#include "tools/cli/args.h"

namespace nnc::cli {

extern const std::set<std::string> kPipelineFlags;    // take no value
extern const std::set<std::string> kPipelineOptions;  // take a value
extern const char* const kPipelineHelp;

// a ∪ b, for building an Args declaration.
std::set<std::string> with(std::set<std::string> a, const std::set<std::string>& b);
// LoadOptions from the shared flags; throws a usage error for malformed values.
LoadOptions load_options(const Args& args);
// Where tuning may place nodes (--device, --fp16): "cpu", "cuda" (a runtime error without a
// GPU), "auto" (the GPU when there is one; otherwise says once on stderr that it runs on the CPU)
// or "emulator" (the CUDA kernels on the CPU emulator).
void select_device(const std::string& device, bool allow_f16);
// The same model as imported (-O0: no passes, no tuning, no memory plan) with the same input
// shapes and import-time folding: the reference nnc compare and --dump-tensor read.
LoadOptions imported_options(const LoadOptions& options);

}  // namespace nnc::cli
