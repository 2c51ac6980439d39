// Fuzz target: IR text -> parser -> verifier -> type inference -> printer -> parser again. The
// text a parsed graph prints must parse back (core/ir_text.h promises print/parse round trips).
#include <cstdio>
#include <cstdlib>

#include "core/ir_text.h"
#include "ops/shape_inference.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal([&] {
    nnc::Graph g = nnc::parse_ir(std::string(nnc::fuzz::as_bytes(data, size)), "fuzz.ir");
    nnc::infer_types(g);
    nnc::verify(g, /*from_file=*/true);
    const std::string printed = nnc::print_ir(g);
    try {
      (void)nnc::parse_ir(printed, "printed.ir");
    } catch (const nnc::Error& e) {
      std::fprintf(stderr, "fuzz finding: printed IR does not parse back: %s\n%s\n", e.what(), printed.c_str());
      std::abort();
    }
  });
  return 0;
}
