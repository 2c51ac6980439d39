// ops/fast_math.h — e^x as straight-line float arithmetic that GCC vectorises (std::exp is a
// library call per element), for the epilogues (ops/epilogue.cpp) and the CPU tactics that
// need exponentials in bulk (softmax).
//
// x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor polynomial (relative error under
// 2e-7, about one float ulp), 2^n built in the exponent bits. Inputs are clamped to [-87, 88],
// where e^x is a normal float (e^-87 ~ 1.6e-38 stands in for smaller results, which callers
// add to sums of order 1 or feed to a sigmoid that has saturated long before).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace nnc {

inline float exp_vectorisable(float input) {
  // The argument order sends NaN to 88 (converting a NaN to int below is undefined; found by
  // tests/fuzz); the result is NaN again at the end.
  const float x = std::max(-87.0f, std::min(88.0f, input));
  // Round to nearest by the 1.5 * 2^23 trick (plain adds vectorise; nearbyint may not).
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = x - n * 0.693145751953125f - n * 1.42860682030941723212e-6f;  // ln2 in two parts
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return input == input ? p * scale : input;
}

}  // namespace nnc
