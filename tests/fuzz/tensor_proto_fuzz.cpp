// Fuzz target: serialized ONNX TensorProto bytes (the .pb inputs of `nnc run --input` and of
// ONNX's test data) -> tensor. External data is refused here (no model directory).
#include "importers/onnx/tensor_proto.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal(
      [&] { (void)nnc::onnx_import::parse_tensor_proto(std::string(nnc::fuzz::as_bytes(data, size)), "fuzz.pb"); });
  return 0;
}
