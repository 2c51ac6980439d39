// The `--bev` picture of `nnc petr` / `nnc bevformer`: a top-down view of the ego frame.
#include <algorithm>
#include <cmath>

#include "models/detect3d/detector.h"

namespace nnc::detect3d {
namespace {

using Rgb = std::array<uint8_t, 3>;

// Pixels of the picture, with the ego frame's x (forward) pointing up and y (left) to the left.
struct Canvas {
  Image image;
  double scale = 1, centre = 0;  // pixels per metre; the ego's pixel

  std::pair<double, double> to_pixel(double x, double y) const { return {centre - y * scale, centre - x * scale}; }

  void put(int px, int py, const Rgb& c) {
    if (px < 0 || py < 0 || px >= image.width || py >= image.height) return;
    uint8_t* p = &image.pixels[(size_t(py) * size_t(image.width) + size_t(px)) * 3];
    std::copy(c.begin(), c.end(), p);
  }

  // A line in metres, `width` pixels wide (DDA over the longer axis).
  void line(double x0, double y0, double x1, double y1, const Rgb& c, int width = 1) {
    const auto [u0, v0] = to_pixel(x0, y0);
    const auto [u1, v1] = to_pixel(x1, y1);
    const double steps = std::ceil(std::max(std::abs(u1 - u0), std::abs(v1 - v0)));
    if (!(steps < 1e5)) return;  // far off the picture (or not finite)
    for (int i = 0; i <= int(steps); ++i) {
      const double t = steps > 0 ? i / steps : 0;
      const int u = int(std::lround(u0 + t * (u1 - u0))), v = int(std::lround(v0 + t * (v1 - v0)));
      for (int dy = -(width / 2); dy <= (width - 1) / 2; ++dy)
        for (int dx = -(width / 2); dx <= (width - 1) / 2; ++dx) put(u + dx, v + dy, c);
    }
  }

  void box(const Box3D& b, const Rgb& c, int width) {
    const double cs = std::cos(b.yaw), sn = std::sin(b.yaw), hl = b.size[1] / 2, hw = b.size[0] / 2;
    const double lx[4] = {hl, -hl, -hl, hl}, ly[4] = {hw, hw, -hw, -hw};
    double x[4], y[4];
    for (int i = 0; i < 4; ++i) {
      x[i] = b.center[0] + lx[i] * cs - ly[i] * sn;
      y[i] = b.center[1] + lx[i] * sn + ly[i] * cs;
    }
    for (int i = 0; i < 4; ++i) line(x[i], y[i], x[(i + 1) % 4], y[(i + 1) % 4], c, width);
  }
};

Rgb class_colour(int label) {
  static const Rgb palette[] = {{235, 70, 60}, {70, 130, 240}, {245, 205, 50}, {80, 200, 120}, {200, 100, 220},
                                {240, 150, 60}, {60, 210, 220}, {180, 180, 90}, {230, 120, 160}, {150, 150, 240}};
  return label < 0 ? Rgb{200, 200, 200} : palette[size_t(label) % std::size(palette)];
}

}  // namespace

Image draw_bev(const Scene& scene, const std::vector<Box3D>& predictions, double range_m, int size_px) {
  Canvas canvas;
  canvas.image = Image{size_px, size_px, 3, std::vector<uint8_t>(size_t(size_px) * size_t(size_px) * 3, 24)};
  canvas.scale = size_px / (2 * range_m);
  canvas.centre = size_px / 2.0;
  // Range rings every 10 m and the axes, faint.
  for (double r = 10; r <= range_m * 1.5; r += 10)
    for (int i = 0; i < 256; ++i) {
      const double a0 = 2 * M_PI * i / 256, a1 = 2 * M_PI * (i + 1) / 256;
      canvas.line(r * std::cos(a0), r * std::sin(a0), r * std::cos(a1), r * std::sin(a1), {52, 52, 60});
    }
  canvas.line(-range_m, 0, range_m, 0, {44, 44, 52});
  canvas.line(0, -range_m, 0, range_m, {44, 44, 52});
  // Camera frusta: the rays through each image's left and right edge at its principal row.
  for (const Camera& cam : scene.cameras) {
    const Mat3& k = cam.intrinsics;
    const Mat4& m = cam.sensor_to_ego;
    const double width = cam.image.width > 0 ? cam.image.width : 2 * k[2];
    const double reach = range_m * 0.3;
    for (const double u : {0.0, width}) {
      const double dir_cam[3] = {(u - k[2]) / k[0], 0, 1};  // camera frame, on the principal row
      double dx = 0, dy = 0;
      for (size_t j = 0; j < 3; ++j) {
        dx += m[j] * dir_cam[j];
        dy += m[4 + j] * dir_cam[j];
      }
      const double n = std::hypot(dx, dy);
      if (n < 1e-9) continue;
      canvas.line(m[3], m[7], m[3] + dx / n * reach, m[7] + dy / n * reach, {90, 90, 120});
    }
  }
  // Ego: a 4.5 x 1.9 m outline with a tick forward.
  Box3D ego;
  ego.size = {1.9, 4.5, 1.6};
  canvas.box(ego, {255, 255, 255}, 2);
  canvas.line(0, 0, 3, 0, {255, 255, 255}, 2);
  for (const Box3D& b : scene.ground_truth) canvas.box(b, {230, 230, 230}, 1);
  for (auto it = predictions.rbegin(); it != predictions.rend(); ++it) {  // best drawn last, on top
    const Box3D& b = *it;
    const Rgb c = class_colour(b.label);
    canvas.box(b, c, 2);
    const double hl = b.size[1] / 2;
    canvas.line(b.center[0], b.center[1], b.center[0] + hl * std::cos(b.yaw), b.center[1] + hl * std::sin(b.yaw), c, 2);
    const double speed = std::hypot(b.velocity[0], b.velocity[1]);
    if (speed > 0.5)  // where it will be in one second
      canvas.line(b.center[0], b.center[1], b.center[0] + b.velocity[0], b.center[1] + b.velocity[1], {255, 255, 255});
  }
  return canvas.image;
}

}  // namespace nnc::detect3d
