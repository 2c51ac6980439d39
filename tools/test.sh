#!/usr/bin/env bash
# Builds nnc and runs every test, ending with ctest's summary.
#   tools/test.sh             Release build in build/: unit, malformed-input, conformance and
#                             golden-model tests.
#   tools/test.sh --sanitize  AddressSanitizer + UndefinedBehaviorSanitizer build: the unit,
#                             malformed-input and ONNX conformance tests (reference kernels and
#                             tactics), and the fuzz targets replaying their seeds and every input
#                             that ever found a bug. Built with clang 16 in
#                             build-fuzz/, the instrumented tree tools/fuzz.sh fuzzes in, so CI
#                             compiles the sanitized code once for both.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--sanitize" ]; then
  if ! command -v clang++-16 >/dev/null || [ ! -f /usr/lib/llvm-16/lib/clang/16/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
    echo "tools/test.sh: installing clang-16 and its sanitizer runtimes"
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends clang-16 libclang-rt-16-dev
  fi
  # Only what the unit, malformed-input and conformance tests need (the golden runs would take
  # long under the sanitizers and exercise the same kernels as the unit tests; conformance takes
  # seconds).
  CC=clang-16 CXX=clang++-16 BUILD_DIR=build-fuzz BUILD_TYPE=RelWithDebInfo \
    TARGETS="nnc nnc_test_core nnc_test_ops nnc_test_passes nnc_test_backends nnc_test_cuda nnc_test_importers nnc_test_images
             fuzz_onnx_import fuzz_onnx_model fuzz_ir_text fuzz_plan fuzz_image fuzz_npy fuzz_tensor_proto fuzz_calib_folder fuzz_scene" \
    tools/build.sh -DNNC_FUZZ=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  ctest --test-dir build-fuzz --output-on-failure -L 'unit|malformed|conformance' -j"$(nproc)"
else
  tools/build.sh
  ctest --test-dir build --output-on-failure -j"$(nproc)"
fi
