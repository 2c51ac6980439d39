#include "models/detect3d/scene.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json.h"

namespace nnc::detect3d {
namespace fs = std::filesystem;
namespace {

constexpr uintmax_t kMaxSceneJsonBytes = uintmax_t(16) << 20;
constexpr size_t kMaxSequenceFrames = 100000;

Mat4 read_mat4(const json::Value& v) {
  const std::vector<double> m = v.matrix(4, 4);
  Mat4 out{};
  std::copy(m.begin(), m.end(), out.begin());
  return out;
}

Mat3 read_mat3(const json::Value& v) {
  const std::vector<double> m = v.matrix(3, 3);
  Mat3 out{};
  std::copy(m.begin(), m.end(), out.begin());
  return out;
}

Box3D read_box(const json::Value& v) {
  Box3D box;
  box.class_name = v.at("class").as_string();
  const std::vector<double> c = v.at("center").numbers(3), s = v.at("size").numbers(3);
  std::copy(c.begin(), c.end(), box.center.begin());
  std::copy(s.begin(), s.end(), box.size.begin());
  for (const double d : box.size)
    if (!(d > 0)) v.at("size").fail(fmt::format("sizes must be positive, got {}", d));
  box.yaw = v.at("yaw").as_number();
  if (v.has("velocity")) {
    const std::vector<double> vel = v.at("velocity").numbers(2);
    box.velocity = {vel[0], vel[1]};
  }
  return box;
}

std::string read_text(const fs::path& path, uintmax_t limit) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) bad_input("{}: cannot read ({})", path.string(), ec.message());
  if (size > limit) bad_input("{}: {} bytes, over the {} MiB a scene.json may have", path.string(), size, limit >> 20);
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Scene parse_scene(std::string_view json_text, const fs::path& folder) {
  const std::string source = (folder / "scene.json").string();
  const json::Value doc = json::parse(json_text, source);
  if (!doc.is(json::Type::Object)) doc.fail("expected an object with \"cameras\"");
  Scene scene;
  scene.folder = folder;
  if (doc.has("timestamp")) scene.timestamp = doc.at("timestamp").as_number();
  if (doc.has("ego_to_world")) {
    scene.ego_to_world = read_mat4(doc.at("ego_to_world"));
    check_rigid(scene.ego_to_world, doc.at("ego_to_world").where());
  }
  const json::Value& cams = doc.at("cameras");
  if (cams.size() == 0) cams.fail("lists no cameras");
  if (cams.size() > kMaxCameras) cams.fail(fmt::format("lists {} cameras, more than the {} nnc reads", cams.size(), kMaxCameras));
  std::set<std::string> names;
  for (size_t i = 0; i < cams.size(); ++i) {
    const json::Value& c = cams[i];
    Camera cam;
    cam.name = c.at("name").as_string();
    if (cam.name.empty()) c.at("name").fail("is empty");
    if (!names.insert(cam.name).second) c.at("name").fail(fmt::format("camera \"{}\" appears twice", cam.name));
    const std::string& image = c.at("image").as_string();
    if (image.empty()) c.at("image").fail(fmt::format("camera {}: the image path is empty", cam.name));
    cam.image_path = folder / image;
    cam.intrinsics = read_mat3(c.at("intrinsics"));
    check_intrinsics(cam.intrinsics, fmt::format("{} (camera {})", c.at("intrinsics").where(), cam.name));
    cam.sensor_to_ego = read_mat4(c.at("sensor_to_ego"));
    check_rigid(cam.sensor_to_ego, fmt::format("{} (camera {})", c.at("sensor_to_ego").where(), cam.name));
    scene.cameras.push_back(std::move(cam));
  }
  if (doc.has("boxes")) {
    const json::Value& boxes = doc.at("boxes");
    if (boxes.size() > kMaxBoxes) boxes.fail(fmt::format("lists {} boxes, more than the {} nnc reads", boxes.size(), kMaxBoxes));
    for (size_t i = 0; i < boxes.size(); ++i) scene.ground_truth.push_back(read_box(boxes[i]));
    scene.has_ground_truth = true;
  }
  return scene;
}

Scene load_scene(const fs::path& path, bool load_images) {
  const fs::path folder = fs::is_directory(path) ? path : path.parent_path();
  const fs::path json_path = fs::is_directory(path) ? path / "scene.json" : path;
  if (!fs::exists(path)) bad_input("{}: no such scene folder", path.string());
  if (!fs::exists(json_path)) bad_input("{}: no scene.json in this folder (a scene is a folder with scene.json and its camera images)", folder.string());
  Scene scene = parse_scene(read_text(json_path, kMaxSceneJsonBytes), folder.empty() ? fs::path(".") : folder);
  if (!load_images) return scene;
  const Camera* first = nullptr;
  for (Camera& cam : scene.cameras) {
    if (!fs::exists(cam.image_path))
      bad_input("{}: camera {}: image {} does not exist", json_path.string(), cam.name, cam.image_path.string());
    try {
      cam.image = read_image(cam.image_path);
    } catch (const Error& e) {
      throw with_context(e, fmt::format("{}: camera {}", json_path.string(), cam.name));
    }
    if (first && (cam.image.width != first->image.width || cam.image.height != first->image.height))
      bad_input("{}: camera {}: image {} is {}x{}, but camera {}'s is {}x{} (all cameras must share one size)",
                json_path.string(), cam.name, cam.image_path.string(), cam.image.width, cam.image.height, first->name,
                first->image.width, first->image.height);
    if (!first) first = &cam;
  }
  return scene;
}

std::vector<Scene> load_sequence(const fs::path& path) {
  if (!fs::exists(path)) bad_input("{}: no such scene or sequence folder", path.string());
  if (!fs::is_directory(path) || fs::exists(path / "scene.json")) return {load_scene(path)};
  std::vector<fs::path> frames;
  for (const fs::directory_entry& e : fs::directory_iterator(path)) {
    if (e.is_directory() && fs::exists(e.path() / "scene.json")) frames.push_back(e.path());
    if (frames.size() > kMaxSequenceFrames) bad_input("{}: more than {} frames in one sequence", path.string(), kMaxSequenceFrames);
  }
  if (frames.empty())
    bad_input("{}: an empty sequence (no scene.json here and no sub-folder holds one)", path.string());
  std::sort(frames.begin(), frames.end());
  std::vector<Scene> scenes;
  for (const fs::path& f : frames) {
    scenes.push_back(load_scene(f));
    if (scenes.size() > 1 && scenes.back().timestamp < scenes[scenes.size() - 2].timestamp)
      bad_input("{}: timestamp {} is earlier than the previous frame's {} (frames run in name order)",
                (f / "scene.json").string(), scenes.back().timestamp, scenes[scenes.size() - 2].timestamp);
    if (scenes.back().cameras.size() != scenes.front().cameras.size())
      bad_input("{}: {} cameras, but the sequence's first frame has {}", (f / "scene.json").string(),
                scenes.back().cameras.size(), scenes.front().cameras.size());
  }
  return scenes;
}

}  // namespace nnc::detect3d
