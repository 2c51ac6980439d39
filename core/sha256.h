// core/sha256.h — SHA-256 (FIPS 180-4), for the source model's fingerprint in a plan's header:
// `nnc inspect PLAN` prints it, and it equals what `sha256sum model.onnx` prints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace nnc {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // The digest as 64 lowercase hex digits; the object is spent afterwards.
  std::string hex_digest();

 private:
  void compress(const uint8_t* block);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

std::string sha256_hex(std::string_view bytes);
// Streams the file; throws BadInput when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace nnc
