// Fuzz target: ONNX model bytes -> importer -> verifier -> type and shape inference -> constant
// folding (all inside import_onnx_bytes), then the IR text printer. External data is refused
// (no model directory), so the target never touches the file system.
#include "core/ir_text.h"
#include "importers/onnx/onnx_importer.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal([&] {
    const nnc::Graph g = nnc::import_onnx_bytes(std::string(nnc::fuzz::as_bytes(data, size)), {});
    (void)nnc::print_ir(g);
  });
  return 0;
}
