// core/limits.h — how big a file nnc reads may make things: the guard rails against hostile or
// broken inputs (a 40-byte ONNX file can declare a terabyte tensor, a PNG header a 4-gigapixel
// image, an IR text a subgraph nested ten thousand deep).
//
// Each limit is checked where the untrusted number is first read, before anything is allocated
// or recursed into, and a violation is a BadInput error (exit 2) that names the limit, the value
// and the environment variable that raises it:
//
//   limit                 default       environment variable       checked by
//   tensor bytes          16 GiB        NNC_MAX_TENSOR_BYTES       every tensor nnc allocates
//   graph bytes           32 GiB        NNC_MAX_GRAPH_BYTES        sum of a graph's constants
//   nodes                 1,000,000     NNC_MAX_NODES              importer, IR parser, plans
//   subgraph depth        32            NNC_MAX_SUBGRAPH_DEPTH     importer, IR parser
//   rank                  16            NNC_MAX_RANK               every shape read from a file
//   image pixels          2^28          NNC_MAX_IMAGE_PIXELS       image decoding and resizing
//   loop iterations       2^24          NNC_MAX_LOOP_ITERATIONS    Loop without a trip count
//
// The environment is read once, on first use; an embedding program (or a fuzz target) may set
// its own limits with set_resource_limits before it reads any file.
#pragma once

#include <cstdint>
#include <string_view>

namespace nnc {

struct ResourceLimits {
  uint64_t max_tensor_bytes = uint64_t(16) << 30;
  uint64_t max_graph_bytes = uint64_t(32) << 30;
  int64_t max_nodes = 1'000'000;
  int64_t max_subgraph_depth = 32;
  int64_t max_rank = 16;
  int64_t max_image_pixels = int64_t(1) << 28;
  int64_t max_loop_iterations = int64_t(1) << 24;
};

// The limits in force: the defaults above, overridden by the environment variables.
const ResourceLimits& resource_limits();
void set_resource_limits(const ResourceLimits& limits);

// Throws BadInput "<what> is <value>, over the <limit> limit of <max> (set <ENV> to raise it)"
// when value > max. `limit` is the table's name ("rank", "tensor bytes").
void check_limit(std::string_view what, std::string_view limit, uint64_t value);

}  // namespace nnc
