// tests/fuzz/fuzz_target.h — what every fuzz target shares.
//
// A target feeds the bytes it is given to one parser and lets nnc's checks do their work. A
// BadInput or Unsupported error is the right answer to a malformed file and ends the run
// quietly; anything else is a finding and aborts, so libFuzzer (or the regression runner)
// reports it with the input: an Internal error (an invariant of nnc broke), a Runtime error (a
// parser has no business running out of anything), any other exception, and of course every
// crash, leak, hang and undefined behaviour the sanitizers see.
//
// The resource limits are lowered (core/limits.h) so that a file declaring a huge tensor is
// refused by the limit check, which is what is under test, instead of making the fuzzer spend
// its memory budget on a legitimately large allocation.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/limits.h"

namespace nnc::fuzz {

inline void lower_limits_for_fuzzing() {
  ResourceLimits limits;
  limits.max_tensor_bytes = 64 << 20;
  limits.max_graph_bytes = 256 << 20;
  limits.max_nodes = 20'000;
  limits.max_subgraph_depth = 16;
  limits.max_rank = 12;
  limits.max_image_pixels = 1 << 17;  // 362 x 362: large images cost time, not coverage
  limits.max_loop_iterations = 1 << 12;
  set_resource_limits(limits);
}

// Runs `parse` on the input; returns normally when it succeeds or refuses the input properly.
template <typename Parse>
void expect_clean_refusal(Parse&& parse) {
  try {
    parse();
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::BadInput || e.kind() == ErrorKind::Unsupported) return;
    std::fprintf(stderr, "fuzz finding: nnc::Error of kind %s: %s\n", error_kind_name(e.kind()), e.what());
    std::abort();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: exception other than nnc::Error: %s\n", e.what());
    std::abort();
  }
}

inline std::string_view as_bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace nnc::fuzz
