#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "core/compare.h"
#include "core/npy.h"
#include "core/tensor.h"

using namespace nnc;

TEST_CASE("Half: converts to and from the IEEE binary16 bit patterns") {
  // Reference bit patterns from the IEEE 754 binary16 definition.
  const std::pair<float, uint16_t> cases[] = {{1.0f, 0x3c00}, {-2.0f, 0xc000}, {65504.0f, 0x7bff},
                                              {0.0f, 0x0000}, {5.9604645e-08f, 0x0001}, {0.5f, 0x3800},
                                              {0.099975586f, 0x2e66}, {INFINITY, 0x7c00}};
  for (auto [value, bits] : cases) {
    CHECK(float_to_half(value).bits == bits);
    CHECK(half_to_float(Half{bits}) == value);
  }
  CHECK(float_to_half(1e6f).bits == 0x7c00);           // overflow to infinity
  CHECK(float_to_half(0.1f).bits == 0x2e66);           // rounds to nearest
  CHECK(std::isnan(half_to_float(float_to_half(NAN))));
}

TEST_CASE("BFloat16: rounds to nearest even on the upper 16 bits") {
  CHECK(float_to_bfloat16(1.0f).bits == 0x3f80);
  CHECK(bfloat16_to_float(BFloat16{0x4049}) == 3.140625f);
  CHECK(float_to_bfloat16(3.14159265f).bits == 0x4049);
}

TEST_CASE("Tensor: storage is 64-byte aligned and zero-filled") {
  Tensor t(DType::F32, {3, 5});
  CHECK(reinterpret_cast<uintptr_t>(t.bytes()) % 64 == 0);
  CHECK(t.numel() == 15);
  for (int64_t i = 0; i < t.numel(); ++i) CHECK(t.data<float>()[i] == 0.0f);
}

TEST_CASE("Tensor: sizes beyond the limit are refused before allocating") {
  CHECK_THROWS_AS(Tensor(DType::F32, {int64_t(1) << 40, int64_t(1) << 40}), Error);
  CHECK_THROWS_AS(Tensor(DType::F32, {-1, 2}), Error);
}

TEST_CASE("Tensor: Cast follows ONNX for floats to ints (truncation) and saturates out of range") {
  const Tensor f = Tensor::from_vector<float>({4}, {1.7f, -1.7f, 3e10f, NAN});
  const Tensor i = f.cast(DType::I32);
  CHECK(i.data<int32_t>()[0] == 1);
  CHECK(i.data<int32_t>()[1] == -1);
  CHECK(i.data<int32_t>()[2] == std::numeric_limits<int32_t>::max());
  CHECK(i.data<int32_t>()[3] == 0);
}

TEST_CASE("npy: a written file reads back with the same dtype, shape and values") {
  const auto path = std::filesystem::temp_directory_path() / "nnc_npy_roundtrip.npy";
  const Tensor t = Tensor::from_vector<int64_t>({2, 3}, {1, -2, 3, -4, 5, 1ll << 40});
  write_npy(path, t);
  const Tensor r = read_npy(path);
  CHECK(r.dtype() == DType::I64);
  CHECK(r.dims() == Dims{2, 3});
  CHECK(r.data<int64_t>()[5] == (1ll << 40));
}

TEST_CASE("npy: headers that lie about the payload are refused") {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }";
  header.append(64 - (10 + header.size() + 1) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + char(header.size() & 0xff) + char(header.size() >> 8) + header;
  bytes += std::string(16, '\0');
  CHECK_THROWS_WITH_AS(parse_npy(bytes, "x.npy"), doctest::Contains("needs 4000000"), Error);
  CHECK_THROWS_AS(parse_npy("not npy", "y.npy"), Error);
}

TEST_CASE("compare: relative L2, max-abs and cosine match their definitions") {
  const Tensor a = Tensor::from_vector<float>({3}, {1, 2, 3});
  const Tensor b = Tensor::from_vector<float>({3}, {1, 2, 4});
  const Difference d = compare(a, b, 0, 0);
  CHECK(d.max_abs == doctest::Approx(1.0));
  CHECK(d.rel_l2 == doctest::Approx(1.0 / std::sqrt(21.0)));
  CHECK(d.cosine == doctest::Approx(17.0 / std::sqrt(14.0 * 21.0)));
  CHECK(d.mismatches == 1);
}
