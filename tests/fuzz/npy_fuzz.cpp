// Fuzz target: .npy bytes -> header parser (versions, dtype, order, shape) -> tensor.
#include "core/npy.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal([&] { (void)nnc::parse_npy(std::string(nnc::fuzz::as_bytes(data, size)), "fuzz.npy"); });
  return 0;
}
