// models/detect3d/geometry.h — the host-side camera geometry of the 3D detectors, in double
// precision: 4x4 rigid transforms and projections, their inverse, and the yaw of a pose.
//
// Frames: ego x forward, y left, z up; camera x right, y down, z forward. `lidar2img` is the
// camera's projection of ego-frame points (the detectors call the ego frame "lidar", as nuScenes
// does): K (padded to 4x4) times the inverse of the camera's sensor-to-ego transform.
#pragma once

#include <array>
#include <string>

namespace nnc::detect3d {

using Mat3 = std::array<double, 9>;   // row-major
using Mat4 = std::array<double, 16>;  // row-major
using Vec3 = std::array<double, 3>;

Mat4 identity4();
Mat4 multiply(const Mat4& a, const Mat4& b);
// (x, y, z, 1) through m; returns the first three components of the result and its w in `w`.
Vec3 transform(const Mat4& m, const Vec3& p, double* w = nullptr);

// Gauss-Jordan with partial pivoting. Throws BadInput "<what> is singular ..." when a pivot
// falls below 1e-12 of the matrix's largest entry, or when the matrix is not finite.
Mat4 inverse(const Mat4& m, const std::string& what);

Mat4 lidar2img(const Mat3& intrinsics, const Mat4& sensor_to_ego);

// A rigid transform's rotation about z (atan2 of its first column); the detectors' poses only
// turn about the vertical.
double yaw_of(const Mat4& pose);
// An angle wrapped to [-pi, pi).
double wrap_angle(double radians);

// Throws BadInput "<what>: <problem>" unless m is finite, its last row is (0, 0, 0, 1) and its
// rotation part is orthonormal with determinant +1 (to 1e-3): a sensor or ego pose.
void check_rigid(const Mat4& m, const std::string& what);
// Throws unless K is finite with fx, fy > 0 and last row (0, 0, 1).
void check_intrinsics(const Mat3& k, const std::string& what);

}  // namespace nnc::detect3d
