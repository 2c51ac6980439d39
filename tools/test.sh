#!/usr/bin/env bash
# Builds nnc and runs every test, ending with ctest's summary.
#   tools/test.sh             Release build in build/: unit, malformed-input, conformance and
#                             golden-model tests.
#   tools/test.sh --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/:
#                             the unit and malformed-input tests, and the fuzz targets replaying
#                             their seeds and every input that ever found a bug.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--sanitize" ]; then
  # Only what the unit and malformed-input tests need (the golden and conformance runs would
  # take long under the sanitizers and exercise the same kernels as the unit tests).
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo \
    TARGETS="nnc nnc_test_core nnc_test_ops nnc_test_passes nnc_test_backends nnc_test_importers nnc_test_images
             nnc_fuzz_onnx_import nnc_fuzz_onnx_model nnc_fuzz_ir_text nnc_fuzz_plan nnc_fuzz_image nnc_fuzz_npy nnc_fuzz_tensor_proto
             nnc_fuzz_calib_folder" \
    tools/build.sh -DNNC_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-asan --output-on-failure -L 'unit|malformed' -j"$(nproc)"
else
  tools/build.sh
  ctest --test-dir build --output-on-failure -j"$(nproc)"
fi
