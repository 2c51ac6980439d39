// SHA-256 against the standard's own test vectors (FIPS 180-4 examples) and against coreutils'
// sha256sum on a real file.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>

#include "core/sha256.h"

using namespace nnc;

TEST_CASE("sha256: the standard's test vectors") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a's, fed in pieces that straddle block boundaries.
  Sha256 h;
  const std::string piece(997, 'a');
  size_t fed = 0;
  while (fed < 1000000) {
    const size_t n = std::min(piece.size(), 1000000 - fed);
    h.update(piece.data(), n);
    fed += n;
  }
  CHECK(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: a model file hashes to what sha256sum prints") {
  const std::filesystem::path model = std::filesystem::path(NNC_SOURCE_DIR) / "tests/data/golden/cnn/model.onnx";
  FILE* pipe = popen(("sha256sum " + model.string()).c_str(), "r");
  REQUIRE(pipe);
  char digest[65] = {};
  const size_t got = fread(digest, 1, 64, pipe);
  pclose(pipe);
  REQUIRE(got == 64);
  CHECK(sha256_file(model) == std::string(digest));
}
