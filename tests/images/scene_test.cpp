// models/detect3d/scene.h: every way a scene folder can be wrong gives a BadInput error naming
// the file, the camera and the field (exit 2 from `nnc petr` / `nnc bevformer`), never a crash.
// Runs under the sanitizers (label malformed).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include <unistd.h>

#include "core/error.h"
#include "models/detect3d/scene.h"

using namespace nnc;
using namespace nnc::detect3d;
namespace fs = std::filesystem;

namespace {

const char* const kCameraA = R"({"name": "CAM_A", "image": "a.png", "intrinsics": [[50, 0, 8], [0, 50, 4], [0, 0, 1]],
      "sensor_to_ego": [[0, 0, 1, 0.5], [-1, 0, 0, 0], [0, -1, 0, 1.6], [0, 0, 0, 1]]})";
const char* const kCameraB = R"({"name": "CAM_B", "image": "b.png", "intrinsics": [[50, 0, 8], [0, 50, 4], [0, 0, 1]],
      "sensor_to_ego": [[0, 0, -1, -0.5], [1, 0, 0, 0], [0, -1, 0, 1.6], [0, 0, 0, 1]]})";

// A scene folder under the test's temporary directory, with two 16x8 camera images.
struct SceneDir {
  fs::path dir;
  explicit SceneDir(const std::string& name, const std::string& json, int b_width = 16) {
    dir = fs::temp_directory_path() / ("nnc_scene_test_" + std::to_string(::getpid())) / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    write_png(dir / "a.png", Image{16, 8, 3, std::vector<uint8_t>(16 * 8 * 3, 100)});
    write_png(dir / "b.png", Image{b_width, 8, 3, std::vector<uint8_t>(size_t(b_width) * 8 * 3, 150)});
    std::ofstream(dir / "scene.json") << json;
  }
};

std::string scene_json(const std::string& camera_b = kCameraB, const std::string& extra = "") {
  return std::string(R"({"timestamp": 1.5, "ego_to_world": [[1, 0, 0, 10], [0, 1, 0, 5], [0, 0, 1, 0], [0, 0, 0, 1]],)") +
         extra + R"( "cameras": [)" + kCameraA + ", " + camera_b + "]}";
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    return e.what();
  }
  FAIL("expected a BadInput error");
  return "";
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("scene: a well-formed scene loads with its cameras, pose and ground truth") {
  const SceneDir s("good", scene_json(kCameraB, R"( "boxes": [{"class": "car", "center": [5, 1, 0.8],
      "size": [1.9, 4.5, 1.6], "yaw": 0.3, "velocity": [2, 0]}],)"));
  const Scene scene = load_scene(s.dir);
  REQUIRE(scene.cameras.size() == 2);
  CHECK(scene.cameras[1].name == "CAM_B");
  CHECK(scene.cameras[1].image.width == 16);
  CHECK(scene.ego_to_world[3] == 10);
  CHECK(scene.timestamp == 1.5);
  REQUIRE(scene.ground_truth.size() == 1);
  CHECK(scene.ground_truth[0].size[1] == 4.5);
  // A folder holding it is a one-frame sequence.
  CHECK(load_sequence(s.dir).size() == 1);
}

TEST_CASE("scene: missing or mismatched camera images name the camera") {
  const SceneDir missing("missing", scene_json(replace(kCameraB, "b.png", "nope.png")));
  CHECK(error_of([&] { load_scene(missing.dir); }).find("camera CAM_B: image") != std::string::npos);
  CHECK(error_of([&] { load_scene(missing.dir); }).find("nope.png does not exist") != std::string::npos);
  const SceneDir wrong("wrong_size", scene_json(), 12);
  const std::string m = error_of([&] { load_scene(wrong.dir); });
  CHECK(m.find("camera CAM_B: image") != std::string::npos);
  CHECK(m.find("is 12x8, but camera CAM_A's is 16x8") != std::string::npos);
  const SceneDir corrupt("corrupt", scene_json());
  std::ofstream(corrupt.dir / "b.png") << "not a png at all";
  CHECK(error_of([&] { load_scene(corrupt.dir); }).find("camera CAM_B") != std::string::npos);
}

TEST_CASE("scene: singular, non-rigid and non-finite matrices name the camera and field") {
  const SceneDir singular("singular", scene_json(replace(kCameraB, "[[0, 0, -1, -0.5], [1, 0, 0, 0]", "[[0, 0, 0, -0.5], [0, 0, 0, 0]")));
  std::string m = error_of([&] { load_scene(singular.dir); });
  CHECK(m.find("cameras[1].sensor_to_ego (camera CAM_B)") != std::string::npos);
  CHECK(m.find("not a rotation") != std::string::npos);
  const SceneDir focal("focal", scene_json(replace(kCameraB, "[[50, 0, 8]", "[[0, 0, 8]")));
  m = error_of([&] { load_scene(focal.dir); });
  CHECK(m.find("cameras[1].intrinsics (camera CAM_B): focal lengths fx = 0") != std::string::npos);
  const SceneDir huge("non_finite", scene_json(replace(kCameraB, "[0, 50, 4]", "[0, 1e400, 4]")));
  CHECK(error_of([&] { load_scene(huge.dir); }).find("out of range") != std::string::npos);
  const SceneDir row("last_row", scene_json(replace(kCameraB, "[0, 0, 0, 1]]}", "[0, 0, 1, 1]]}")));
  CHECK(error_of([&] { load_scene(row.dir); }).find("the last row is (0, 0, 1, 1)") != std::string::npos);
  const SceneDir shape("shape", scene_json(replace(kCameraB, "[[50, 0, 8], [0, 50, 4], [0, 0, 1]]", "[[50, 0, 8], [0, 50, 4]]")));
  CHECK(error_of([&] { load_scene(shape.dir); }).find("cameras[1].intrinsics: expected a 3x3 matrix (3 rows), got 2 rows") !=
        std::string::npos);
  CHECK(error_of([&] { inverse(Mat4{}, "lidar2img"); }) == "lidar2img is all zeros (singular)");
  CHECK(error_of([&] { inverse(Mat4{1, 2, 0, 0, 2, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}, "lidar2img"); })
            .find("lidar2img is singular") != std::string::npos);
}

TEST_CASE("scene: malformed scene.json, wrong types, duplicate cameras, empty and disordered sequences") {
  const SceneDir trailing("trailing", scene_json() + ",");
  CHECK(error_of([&] { load_scene(trailing.dir); }).find("scene.json:3:") != std::string::npos);
  CHECK(error_of([&] { load_scene(trailing.dir); }).find("unexpected text after the document (not valid JSON)") != std::string::npos);
  const SceneDir no_cams("no_cameras", R"({"cameras": []})");
  CHECK(error_of([&] { load_scene(no_cams.dir); }).find("scene.json: cameras: lists no cameras") != std::string::npos);
  const SceneDir twice("twice", scene_json(replace(kCameraB, "CAM_B", "CAM_A")));
  CHECK(error_of([&] { load_scene(twice.dir); }).find("camera \"CAM_A\" appears twice") != std::string::npos);
  const SceneDir type("type", scene_json(replace(kCameraB, "\"b.png\"", "7")));
  CHECK(error_of([&] { load_scene(type.dir); }).find("cameras[1].image: expected a string, got a number") != std::string::npos);
  const SceneDir box("box", scene_json(kCameraB, R"( "boxes": [{"class": "car", "center": [5, 1], "size": [1, 1, 1], "yaw": 0}],)"));
  CHECK(error_of([&] { load_scene(box.dir); }).find("boxes[0].center: expected 3 numbers, got 2") != std::string::npos);
  const SceneDir array("array", "[1, 2]");
  CHECK(error_of([&] { load_scene(array.dir); }).find("expected an object") != std::string::npos);

  const fs::path root = fs::temp_directory_path() / ("nnc_scene_test_" + std::to_string(::getpid()));
  fs::create_directories(root / "empty_sequence" / "not_a_frame");
  CHECK(error_of([&] { load_sequence(root / "empty_sequence"); }).find("an empty sequence") != std::string::npos);
  CHECK(error_of([&] { load_sequence(root / "no_such_folder"); }).find("no such scene or sequence folder") != std::string::npos);
  // Frames run in name order; a later frame with an earlier timestamp is refused.
  const SceneDir f0("seq/frame_00", scene_json());
  const SceneDir f1("seq/frame_01", replace(scene_json(), "\"timestamp\": 1.5", "\"timestamp\": 0.5"));
  CHECK(error_of([&] { load_sequence(root / "seq"); }).find("timestamp 0.5 is earlier than the previous frame's 1.5") != std::string::npos);
  fs::remove_all(root);
}
