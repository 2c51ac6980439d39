// core/compare.h — how nnc says two tensors agree: max-abs error, relative L2, cosine, and
// numpy-style allclose (used by conformance, golden tests and `nnc compare`).
#pragma once

#include <string>

#include "core/tensor.h"

namespace nnc {

struct Difference {
  double max_abs = 0;    // max |a - b|
  double rel_l2 = 0;     // ||a - b|| / ||b||  (||a - b|| when ||b|| is 0)
  double cosine = 1;     // <a, b> / (||a|| ||b||); 1 when both are zero
  int64_t mismatches = 0;  // elements outside the allclose tolerance
  int64_t first_mismatch = -1;
};

// `actual` against `expected`; dtypes may differ (compared as double). NaN equals NaN.
// Elements mismatch when |a - b| > atol + rtol * |b|.
Difference compare(const Tensor& actual, const Tensor& expected, double rtol = 1e-3, double atol = 1e-7);

// One line describing why two tensors are not allclose, or "" if they are (shapes, dtypes,
// then values).
std::string explain_mismatch(const Tensor& actual, const Tensor& expected, double rtol, double atol);

}  // namespace nnc
