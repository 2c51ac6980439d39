// Fuzz target: .nncplan bytes -> plan loader (header, sections, IR text, weights, tactics, memory
// plan). A payload checksum would stop a fuzzer at the door, so when the input starts with the
// plan magic its header's size and checksum are rewritten to match: the fuzzer explores what
// lies behind the checksum, which a corrupted-on-purpose file can reach too. (Header checks
// themselves have unit tests in tests/importers.)
#include <cstring>
#include <string>

#include "core/ir_text.h"
#include "core/plan_file.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(nnc::fuzz::as_bytes(data, size));
  constexpr size_t kHeader = 32;
  if (bytes.size() >= kHeader && bytes.compare(0, 8, std::string("NNCPLAN\0", 8)) == 0) {
    const uint64_t payload = bytes.size() - kHeader;
    const uint32_t checksum = nnc::crc32(bytes.data() + kHeader, payload);
    std::memcpy(bytes.data() + 16, &payload, sizeof payload);
    std::memcpy(bytes.data() + 24, &checksum, sizeof checksum);
  }
  nnc::fuzz::expect_clean_refusal([&] { (void)nnc::load_plan_bytes(bytes, "fuzz.nncplan"); });
  return 0;
}
