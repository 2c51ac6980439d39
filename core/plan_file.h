// core/plan_file.h — compiled plans (.nncplan): an optimised, tuned model saved so that it loads
// and runs without importing, optimising or tuning again.
//
// Layout (little-endian):
//
//   header   "NNCPLAN\0"  u32 format version (1)  u32 0  u64 payload bytes  u32 CRC-32 of payload  u32 0
//   payload  sections, each  u32 tag  u64 length  bytes:
//     META   text, one `key=value` per line: nnc version, source model and its SHA-256, the
//            options it was built with, CPU, instruction set, threads the tactics were timed
//            with, whether memory is planned
//     IRTX   the optimised graph as IR text (core/ir_text.h)
//     WGHT   every constant: name, dtype, dims, raw bytes (the IR text only summarises them)
//     TACT   one tactic name per node, in schedule order ("reference" for the reference kernel)
//
// A plan is checked before anything is built from it: magic, version, payload size against the
// file's size, the checksum, then every length and count against the bytes that remain. Any
// mismatch is a BadInput error naming the file and what is wrong (exit code 2). Weights are
// re-packed for the chosen tactics when the plan loads (a few milliseconds per layer), and the
// memory plan is recomputed (it is a deterministic function of the graph).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/api.h"

namespace nnc {

constexpr uint32_t kPlanFormatVersion = 1;

// Writes `model` (its graph, weights, the tactic chosen for every node) to `path`. Throws
// Unsupported for graphs a plan cannot hold yet (If/Loop subgraphs, string constants) and
// Runtime when the file cannot be written. The bytes depend only on the model, the options it
// was built with and this machine's CPU: no time, no addresses, no hash-map order, so the same
// model, options and timing cache give the same file.
void save_plan(const Model& model, const std::filesystem::path& path);
// The bytes save_plan writes, and the payload checksum their header holds (what `nnc compare`
// prints, to show that the plan it runs is the one `nnc compile` writes).
std::string serialize_plan(const Model& model);
uint32_t plan_checksum(std::string_view plan_bytes);

// A plan's header and META section (nnc inspect): validated like load_plan, nothing built.
struct PlanInfo {
  uint32_t format_version = 0;
  uint32_t checksum = 0;
  uint64_t payload_bytes = 0;
  // nnc, source, source_sha256, options, cpu, isa, threads, memory_plan, gpu (empty: CPU only),
  // and metadata.<key> for the source model's metadata_props (escaped; read_model_metadata)
  std::map<std::string, std::string> meta;
};
PlanInfo read_plan_info(const std::filesystem::path& path);

// The model's own metadata (key -> value): an ONNX file's metadata_props, or what a plan carried
// over from the ONNX file it was compiled from (META's `metadata.<key>` lines).
std::map<std::string, std::string> read_model_metadata(const std::filesystem::path& path);

// True if the file starts with the plan magic.
bool is_plan_file(const std::filesystem::path& path);

// Reads a plan written by save_plan. `threads`: the thread count to run with (warns in the
// returned model's tuning warnings when it differs from the one the plan was tuned with).
Model load_plan(const std::filesystem::path& path);
// The same from the bytes of a plan file (`name` stands for the file in errors).
Model load_plan_bytes(std::string_view bytes, const std::string& name);

}  // namespace nnc
