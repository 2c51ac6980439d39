// Fuzz target: scene.json bytes -> JSON parser -> scene checks (cameras, matrices, poses, boxes).
// Images are not read here (the image target covers them); their paths only have to resolve.
#include "models/detect3d/scene.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal([&] { (void)nnc::detect3d::parse_scene(nnc::fuzz::as_bytes(data, size), "fuzz_scene"); });
  return 0;
}
