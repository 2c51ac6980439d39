#include "models/detect3d/geometry.h"

#include <cmath>

#include "core/error.h"

namespace nnc::detect3d {

Mat4 identity4() { return {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}; }

Mat4 multiply(const Mat4& a, const Mat4& b) {
  Mat4 out{};
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += a[size_t(r * 4 + k)] * b[size_t(k * 4 + c)];
      out[size_t(r * 4 + c)] = sum;
    }
  return out;
}

Vec3 transform(const Mat4& m, const Vec3& p, double* w) {
  Vec3 out{};
  for (size_t r = 0; r < 3; ++r) out[r] = m[r * 4] * p[0] + m[r * 4 + 1] * p[1] + m[r * 4 + 2] * p[2] + m[r * 4 + 3];
  if (w) *w = m[12] * p[0] + m[13] * p[1] + m[14] * p[2] + m[15];
  return out;
}

Mat4 inverse(const Mat4& m, const std::string& what) {
  double largest = 0;
  for (const double v : m) {
    if (!std::isfinite(v)) bad_input("{} has a non-finite entry ({})", what, v);
    largest = std::max(largest, std::abs(v));
  }
  if (largest == 0) bad_input("{} is all zeros (singular)", what);
  std::array<double, 32> a{};  // [m | I]
  for (size_t r = 0; r < 4; ++r) {
    for (size_t c = 0; c < 4; ++c) a[r * 8 + c] = m[r * 4 + c];
    a[r * 8 + 4 + r] = 1;
  }
  for (size_t col = 0; col < 4; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < 4; ++r)
      if (std::abs(a[r * 8 + col]) > std::abs(a[pivot * 8 + col])) pivot = r;
    if (std::abs(a[pivot * 8 + col]) < 1e-12 * largest)
      bad_input("{} is singular (no inverse: column {} has no pivot)", what, col);
    if (pivot != col)
      for (size_t c = 0; c < 8; ++c) std::swap(a[col * 8 + c], a[pivot * 8 + c]);
    const double scale = 1 / a[col * 8 + col];
    for (size_t c = 0; c < 8; ++c) a[col * 8 + c] *= scale;
    for (size_t r = 0; r < 4; ++r) {
      if (r == col) continue;
      const double f = a[r * 8 + col];
      if (f == 0) continue;
      for (size_t c = 0; c < 8; ++c) a[r * 8 + c] -= f * a[col * 8 + c];
    }
  }
  Mat4 out{};
  for (size_t r = 0; r < 4; ++r)
    for (size_t c = 0; c < 4; ++c) out[r * 4 + c] = a[r * 8 + 4 + c];
  return out;
}

Mat4 lidar2img(const Mat3& k, const Mat4& sensor_to_ego) {
  const Mat4 k4{k[0], k[1], k[2], 0, k[3], k[4], k[5], 0, k[6], k[7], k[8], 0, 0, 0, 0, 1};
  return multiply(k4, inverse(sensor_to_ego, "sensor_to_ego"));
}

double yaw_of(const Mat4& pose) { return std::atan2(pose[4], pose[0]); }

double wrap_angle(double radians) {
  const double two_pi = 2 * M_PI;
  double r = std::fmod(radians + M_PI, two_pi);
  if (r < 0) r += two_pi;
  return r - M_PI;
}

void check_rigid(const Mat4& m, const std::string& what) {
  for (const double v : m)
    if (!std::isfinite(v)) bad_input("{} has a non-finite entry ({})", what, v);
  if (m[12] != 0 || m[13] != 0 || m[14] != 0 || m[15] != 1)
    bad_input("{}: the last row is ({}, {}, {}, {}), a rigid transform's is (0, 0, 0, 1)", what, m[12], m[13], m[14], m[15]);
  double worst = 0;
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j) {
      double dot = 0;
      for (size_t k = 0; k < 3; ++k) dot += m[k * 4 + i] * m[k * 4 + j];
      worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  const double det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
                     m[2] * (m[4] * m[9] - m[5] * m[8]);
  if (worst > 1e-3 || det < 0)
    bad_input("{}: the 3x3 rotation part is not a rotation (columns off orthonormal by {:.3g}, determinant {:.4g})", what,
              worst, det);
}

void check_intrinsics(const Mat3& k, const std::string& what) {
  for (const double v : k)
    if (!std::isfinite(v)) bad_input("{} has a non-finite entry ({})", what, v);
  if (!(k[0] > 0) || !(k[4] > 0)) bad_input("{}: focal lengths fx = {}, fy = {} must be positive", what, k[0], k[4]);
  if (k[6] != 0 || k[7] != 0 || k[8] != 1)
    bad_input("{}: the last row is ({}, {}, {}), a camera matrix's is (0, 0, 1)", what, k[6], k[7], k[8]);
}

}  // namespace nnc::detect3d
