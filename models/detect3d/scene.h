// models/detect3d/scene.h — multi-camera scenes as the 3D detectors read them.
//
// A scene is a folder holding `scene.json` and the camera images it names:
//
//   {
//     "timestamp": 12.5,                                  seconds (optional, default 0)
//     "ego_to_world": [[r, r, r, x], ..., [0, 0, 0, 1]],  4x4 ego pose (optional, default identity)
//     "cameras": [
//       {"name": "CAM_FRONT", "image": "CAM_FRONT.png",
//        "intrinsics": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]],          pixels of the image file
//        "sensor_to_ego": [[...], [...], [...], [0, 0, 0, 1]]},        camera axes x right, y down, z forward
//       ...
//     ],
//     "boxes": [                                           ground truth (optional), ego frame
//       {"class": "car", "center": [x, y, z], "size": [w, l, h], "yaw": rad, "velocity": [vx, vy]}
//     ]
//   }
//
// A sequence is a folder of scene folders, in time order by name (frame_00, frame_01, ...).
// Everything a file can get wrong is a BadInput error naming the file, the camera and the field:
// a missing or unreadable image, images of different sizes, a singular or non-finite matrix, a
// pose that is not rigid, a malformed scene.json, an empty sequence, time running backwards.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "models/detect3d/geometry.h"
#include "models/image_io.h"

namespace nnc::detect3d {

struct Camera {
  std::string name;
  std::filesystem::path image_path;
  Image image;  // RGB
  Mat3 intrinsics{};
  Mat4 sensor_to_ego{};
};

// A 3D box in the ego frame: what ground truth holds and what the detectors output.
struct Box3D {
  std::string class_name;
  int label = -1;        // index into the detector's classes (-1: a ground-truth class it lacks)
  float score = 1;       // 1 for ground truth
  Vec3 center{};         // metres
  Vec3 size{};           // width, length (along the heading), height
  double yaw = 0;        // heading about z, radians
  std::array<double, 2> velocity{};  // m/s over the ground, ego frame
};

struct Scene {
  std::filesystem::path folder;
  double timestamp = 0;
  Mat4 ego_to_world = identity4();
  std::vector<Camera> cameras;
  std::vector<Box3D> ground_truth;  // empty when the scene has none
  bool has_ground_truth = false;
};

// The largest number of cameras and ground-truth boxes a scene may declare (bounded loops).
constexpr size_t kMaxCameras = 64;
constexpr size_t kMaxBoxes = 100000;

// Reads `folder`/scene.json (or the scene.json named directly) and its images. With
// `load_images` false only the JSON is checked (what the fuzz target and `--help` examples use).
Scene load_scene(const std::filesystem::path& folder, bool load_images = true);
// Parses scene.json text; image paths are resolved against `folder` but not read.
Scene parse_scene(std::string_view json_text, const std::filesystem::path& folder);
// A scene folder gives one scene; a folder of scene folders gives them all in name order.
std::vector<Scene> load_sequence(const std::filesystem::path& path);

}  // namespace nnc::detect3d
