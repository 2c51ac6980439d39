#include "core/compare.h"

#include <cmath>

namespace nnc {

Difference compare(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  check_internal(actual.numel() == expected.numel(), "compare: element counts differ");
  Difference d;
  double diff_sq = 0, expected_sq = 0, actual_sq = 0, dot = 0;
  const bool integral = !is_float(actual.dtype()) && !is_float(expected.dtype());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    bool equal;
    double a, b;
    if (integral) {
      const int64_t ia = actual.get_int(i), ib = expected.get_int(i);
      equal = ia == ib;
      a = double(ia);
      b = double(ib);
    } else {
      a = actual.get_double(i);
      b = expected.get_double(i);
      if (std::isnan(a) || std::isnan(b)) {
        equal = std::isnan(a) && std::isnan(b);
        if (!equal) d.max_abs = INFINITY;
        if (!equal && d.first_mismatch < 0) d.first_mismatch = i;
        d.mismatches += !equal;
        continue;
      }
      if (std::isinf(a) || std::isinf(b)) {
        equal = a == b;
        if (!equal && d.first_mismatch < 0) d.first_mismatch = i;
        d.mismatches += !equal;
        if (!equal) d.max_abs = INFINITY;
        continue;
      }
      equal = std::fabs(a - b) <= atol + rtol * std::fabs(b);
    }
    if (!equal) {
      if (d.first_mismatch < 0) d.first_mismatch = i;
      ++d.mismatches;
    }
    const double e = a - b;
    d.max_abs = std::max(d.max_abs, std::fabs(e));
    diff_sq += e * e;
    expected_sq += b * b;
    actual_sq += a * a;
    dot += a * b;
  }
  d.rel_l2 = expected_sq > 0 ? std::sqrt(diff_sq / expected_sq) : std::sqrt(diff_sq);
  d.cosine = (actual_sq > 0 && expected_sq > 0) ? dot / std::sqrt(actual_sq * expected_sq)
                                                 : (actual_sq == expected_sq ? 1.0 : 0.0);
  return d;
}

std::string explain_mismatch(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (actual.dims() != expected.dims())
    return fmt::format("shape {} but expected {}", to_string(actual.dims()), to_string(expected.dims()));
  if (actual.dtype() != expected.dtype())
    return fmt::format("type {} but expected {}", dtype_name(actual.dtype()), dtype_name(expected.dtype()));
  const Difference d = compare(actual, expected, rtol, atol);
  if (d.mismatches == 0) return "";
  return fmt::format("{} of {} elements differ (first at {}: got {} expected {}); max abs {:.3g}, rel L2 {:.3g}",
                     d.mismatches, actual.numel(), d.first_mismatch, actual.get_double(d.first_mismatch),
                     expected.get_double(d.first_mismatch), d.max_abs, d.rel_l2);
}

}  // namespace nnc
