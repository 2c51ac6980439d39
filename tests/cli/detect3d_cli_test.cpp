// `nnc petr` and `nnc bevformer` end to end on the bundled sample drive: the documented command
// lines, the JSON they write (read back with nnc's own JSON reader), the pictures, and the bad
// scenes, models and usage that must exit 2 with a message naming the problem.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "models/image_io.h"
#include "run_cli.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kDrive = kSource / "models/samples/scenes/drive";

nnc::testing::CliResult nnc_cli(const std::string& arguments, const fs::path& dir) {
  return nnc::testing::run_cli(fmt::format("{} --timing-cache {}", arguments, (dir / "timing-cache").string()), dir);
}

json::Value read_json(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str(), path.string());
}

}  // namespace

TEST_CASE("nnc petr / bevformer: boxes as JSON, one entry per frame, and the --bev pictures") {
  const fs::path dir = nnc::testing::scratch_dir("detect3d");
  const auto petr = nnc_cli(fmt::format("petr {} --boxes {} --bev {}", (kDrive / "frame_00").string(),
                                        (dir / "petr.json").string(), (dir / "petr.png").string()),
                            dir);
  INFO(petr.output);
  REQUIRE(petr.exit_code == 0);
  for (const char* line : {"frame   1/1", "wrote boxes", "wrote bev"}) CHECK(petr.output.find(line) != std::string::npos);
  const json::Value doc = read_json(dir / "petr.json");
  REQUIRE(doc.at("frames").size() == 1);
  CHECK(doc.at("classes").size() == 3);
  const json::Value& boxes = doc.at("frames")[0].at("boxes");
  for (size_t i = 0; i < boxes.size(); ++i) {
    CHECK(boxes[i].at("center").numbers(3).size() == 3);
    CHECK(boxes[i].at("score").as_number() >= 0.3);
    CHECK(boxes[i].at("size").numbers(3)[0] > 0);
  }
  CHECK(read_image(dir / "petr.png").width == 640);

  // A compiled plan carries the model's metadata (classes, ranges): it detects the same boxes.
  const std::string plan = (dir / "petr.nncplan").string();
  REQUIRE(nnc_cli(fmt::format("compile {} -o {}", (fs::path(NNC_SOURCE_DIR) / "models/petr/petr_tiny.onnx").string(), plan), dir)
              .exit_code == 0);
  const auto from_plan = nnc_cli(fmt::format("petr {} --model {} --boxes {}", (kDrive / "frame_00").string(), plan,
                                             (dir / "plan.json").string()),
                                 dir);
  INFO(from_plan.output);
  REQUIRE(from_plan.exit_code == 0);
  const json::Value plan_doc = read_json(dir / "plan.json");
  CHECK(plan_doc.at("classes").size() == 3);
  const json::Value& plan_boxes = plan_doc.at("frames")[0].at("boxes");
  REQUIRE(plan_boxes.size() == boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    CHECK(plan_boxes[i].at("class").as_string() == boxes[i].at("class").as_string());
    for (size_t a = 0; a < 3; ++a)
      CHECK(plan_boxes[i].at("center").numbers(3)[a] == doctest::Approx(boxes[i].at("center").numbers(3)[a]).epsilon(1e-3));
  }

  const auto bev = nnc_cli(fmt::format("bevformer {} --boxes {} --bev {} --bev-all", kDrive.string(),
                                       (dir / "bev.json").string(), (dir / "bev.png").string()),
                           dir);
  INFO(bev.output);
  REQUIRE(bev.exit_code == 0);
  CHECK(bev.output.find("frame   3/3") != std::string::npos);
  CHECK(read_json(dir / "bev.json").at("frames").size() == 3);
  for (const char* name : {"bev.png", "bev-000.png", "bev-001.png", "bev-002.png"}) CHECK(fs::exists(dir / name));
  fs::remove_all(dir);
}

TEST_CASE("nnc petr / bevformer: bad scenes, models and usage exit 2 naming what is wrong") {
  const fs::path dir = nnc::testing::scratch_dir("detect3d_bad");
  auto expect_error = [&](const std::string& arguments, const std::string& message) {
    const auto r = nnc_cli(arguments, dir);
    INFO(arguments << "\n" << r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find(message) != std::string::npos);
  };
  const std::string out = (dir / "b.json").string();
  expect_error(fmt::format("petr {}", (kDrive / "frame_00").string()), "usage: nnc petr SCENE --boxes OUT.json");
  expect_error(fmt::format("petr {} --boxes {}", (dir / "nowhere").string(), out), "no such scene or sequence folder");
  expect_error(fmt::format("petr {} --boxes {} --score-threshold 2", (kDrive / "frame_00").string(), out),
               "--score-threshold expects a number from 0 to 1");
  expect_error(fmt::format("bevformer {} --boxes {}", dir.string(), out), "an empty sequence");
  // A frame whose camera image went missing.
  fs::copy(kDrive / "frame_00", dir / "broken", fs::copy_options::recursive);
  fs::remove(dir / "broken" / "CAM_BACK.png");
  expect_error(fmt::format("petr {} --boxes {}", (dir / "broken").string(), out), "camera CAM_BACK: image");
  // A frame with one camera fewer than the model takes.
  {
    fs::copy(kDrive / "frame_00", dir / "five", fs::copy_options::recursive);
    std::ifstream in(dir / "five" / "scene.json");
    std::stringstream text;
    text << in.rdbuf();
    std::string json = text.str();
    // The last camera's object (it holds arrays, no objects): from the comma before it to its '}'.
    const size_t name = json.find("\"name\": \"CAM_FRONT_RIGHT\"");
    REQUIRE(name != std::string::npos);
    const size_t comma = json.rfind(',', json.rfind('{', name));
    const size_t end = json.find('}', name);
    json.erase(comma, end + 1 - comma);
    std::ofstream(dir / "five" / "scene.json") << json;
  }
  expect_error(fmt::format("bevformer {} --boxes {}", (dir / "five").string(), out), "the scene has 5 cameras, the model takes 6");
  // A model of another family.
  expect_error(fmt::format("petr {} --boxes {} --model {}", (kDrive / "frame_00").string(), out,
                           (kSource / "models/u2net/u2netp.onnx").string()),
               "the model has no input 'img'");
  expect_error(fmt::format("bevformer {} --boxes {} --model {}", (kDrive / "frame_00").string(), out,
                           (kSource / "models/petr/petr_tiny.onnx").string()),
               "the model has no input 'prev_bev'");
  fs::remove_all(dir);
}
