#include "core/limits.h"

#include <cstdlib>
#include <mutex>
#include <string>

#include "core/error.h"

namespace nnc {
namespace {

struct LimitField {
  std::string_view name;  // as in the table of limits.h and README
  const char* env;
  // Where the limit lives in ResourceLimits (all are stored as 64-bit integers).
  uint64_t ResourceLimits::*unsigned_field = nullptr;
  int64_t ResourceLimits::*signed_field = nullptr;
};

constexpr LimitField kFields[] = {
    {"tensor bytes", "NNC_MAX_TENSOR_BYTES", &ResourceLimits::max_tensor_bytes, nullptr},
    {"graph bytes", "NNC_MAX_GRAPH_BYTES", &ResourceLimits::max_graph_bytes, nullptr},
    {"nodes", "NNC_MAX_NODES", nullptr, &ResourceLimits::max_nodes},
    {"subgraph depth", "NNC_MAX_SUBGRAPH_DEPTH", nullptr, &ResourceLimits::max_subgraph_depth},
    {"rank", "NNC_MAX_RANK", nullptr, &ResourceLimits::max_rank},
    {"image pixels", "NNC_MAX_IMAGE_PIXELS", nullptr, &ResourceLimits::max_image_pixels},
    {"loop iterations", "NNC_MAX_LOOP_ITERATIONS", nullptr, &ResourceLimits::max_loop_iterations},
};

uint64_t get(const ResourceLimits& limits, const LimitField& f) {
  return f.unsigned_field ? limits.*f.unsigned_field : uint64_t(limits.*f.signed_field);
}

ResourceLimits from_environment() {
  ResourceLimits limits;
  for (const LimitField& f : kFields) {
    const char* text = std::getenv(f.env);
    if (!text) continue;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text, &end, 10);
    // A malformed value is ignored rather than fatal: the limit keeps its default, which is
    // what the user had before setting the variable.
    if (!end || *end != 0 || v == 0 || v > uint64_t(INT64_MAX)) continue;
    if (f.unsigned_field) limits.*f.unsigned_field = v;
    else limits.*f.signed_field = int64_t(v);
  }
  return limits;
}

std::mutex g_mutex;
ResourceLimits* g_limits = nullptr;

}  // namespace

const ResourceLimits& resource_limits() {
  std::lock_guard lock(g_mutex);
  if (!g_limits) g_limits = new ResourceLimits(from_environment());  // lives for the process
  return *g_limits;
}

void set_resource_limits(const ResourceLimits& limits) {
  std::lock_guard lock(g_mutex);
  if (!g_limits) g_limits = new ResourceLimits(limits);
  else *g_limits = limits;
}

void check_limit(std::string_view what, std::string_view limit, uint64_t value) {
  const LimitField* field = nullptr;
  for (const LimitField& f : kFields)
    if (f.name == limit) field = &f;
  check_internal(field != nullptr, "check_limit: unknown limit");
  const uint64_t max = get(resource_limits(), *field);
  if (value <= max) return;
  bad_input("{} is {}, over the {} limit of {} (set {} to raise it)", what, value, limit, max, field->env);
}

}  // namespace nnc
