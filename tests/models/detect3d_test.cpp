// The 3D detection pipelines (models/petr, models/bevformer) on the bundled sample drive against
// PyTorch (tools/reference/detect3d_goldens.py): nnc's C++ host tensors (frustum coordinates,
// pillar projections, the CAN-bus vector, the aligned history) against the reference's numpy,
// then the trained models' outputs on them within 1e-4 relative L2, frame after frame with the
// BEV history carried, and the decoded boxes against the decode of PyTorch's outputs.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "core/compare.h"
#include "core/npy.h"
#include "models/bevformer/bevformer.h"
#include "models/petr/petr.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kSource = NNC_SOURCE_DIR;
const fs::path kDrive = kSource / "models/samples/scenes/drive";
const fs::path kGolden = kSource / "tests/data/detect3d";

void check_close(const Tensor& got, const fs::path& expected_file, double rel_tol, double abs_tol) {
  const Tensor expected = read_npy(expected_file);
  INFO(expected_file.filename().string());
  REQUIRE(got.dims() == expected.dims());
  const Difference d = compare(got, expected);
  MESSAGE(fmt::format("{}: rel L2 {:.3g}, max abs {:.3g}", expected_file.filename().string(), d.rel_l2, d.max_abs));
  CHECK(d.rel_l2 <= rel_tol);
  CHECK(d.max_abs <= abs_tol);
}

// The decode of PyTorch's outputs and of nnc's agree box for box.
void check_same_boxes(const std::vector<detect3d::Box3D>& ours, const std::vector<detect3d::Box3D>& reference) {
  REQUIRE(!reference.empty());  // the trained models find boxes on the sample drive: nothing vacuous here
  CHECK(ours.size() == reference.size());
  for (size_t i = 0; i < std::min(ours.size(), reference.size()); ++i) {
    CHECK(ours[i].label == reference[i].label);
    CHECK(std::abs(ours[i].score - reference[i].score) < 1e-3);
    for (size_t a = 0; a < 3; ++a) CHECK(std::abs(ours[i].center[a] - reference[i].center[a]) < 1e-2);
  }
}

}  // namespace

TEST_CASE("detect3d: PETR's host frustum and outputs on the sample scene match PyTorch") {
  const petr::Detector detector(petr::default_model_path());
  const detect3d::Scene scene = detect3d::load_scene(kDrive / "frame_00");
  const std::map<std::string, Tensor> inputs = detector.inputs(scene);
  // inverse_sigmoid steepens near the clamp: float32 rounding of the same double maths.
  check_close(inputs.at("coords"), kGolden / "petr/coords.npy", 1e-6, 1e-4);
  const auto outputs = Session(detector.model()).run(inputs);
  check_close(outputs.at("all_cls_scores"), kGolden / "petr/output_0.npy", 1e-4, 1e-3);
  check_close(outputs.at("all_bbox_preds"), kGolden / "petr/output_1.npy", 1e-4, 1e-3);
  const detect3d::FrameResult result = detector.run(scene);
  check_same_boxes(result.boxes, detect3d::decode_boxes(read_npy(kGolden / "petr/output_0.npy"),
                                                        read_npy(kGolden / "petr/output_1.npy"), detector.config()));
}

TEST_CASE("detect3d: BEVFormer's host tensors and outputs over the sample drive match PyTorch, history carried") {
  const bevformer::Detector detector(bevformer::default_model_path());
  const std::vector<detect3d::Scene> frames = detect3d::load_sequence(kDrive);
  REQUIRE(frames.size() == 3);
  bevformer::History history;
  for (size_t k = 0; k < frames.size(); ++k) {
    CAPTURE(k);
    const std::map<std::string, Tensor> inputs = detector.inputs(frames[k], history);
    check_close(inputs.at("ref_cam"), kGolden / "bevformer/ref_cam.npy", 1e-6, 1e-5);
    check_close(inputs.at("bev_mask"), kGolden / "bevformer/bev_mask.npy", 0, 0);
    check_close(inputs.at("can_bus"), kGolden / fmt::format("bevformer/can_bus_{}.npy", k), 1e-6, 1e-5);
    check_close(inputs.at("hist_ref"), kGolden / fmt::format("bevformer/hist_ref_{}.npy", k), 1e-6, 1e-5);
    // The history is nnc's own previous bev_embed, PyTorch's is its own: equal within inference error.
    check_close(inputs.at("prev_bev"), kGolden / fmt::format("bevformer/prev_bev_{}.npy", k), 1e-4, 1e-3);
    const auto outputs = Session(detector.model()).run(inputs);
    const char* names[] = {"bev_embed", "all_cls_scores", "all_bbox_preds"};
    for (int i = 0; i < 3; ++i)
      check_close(outputs.at(names[i]), kGolden / fmt::format("bevformer/output_{}_{}.npy", i, k), 1e-4, 2e-3);
    const detect3d::FrameResult result = detector.run(frames[k], history);
    check_same_boxes(result.boxes, detect3d::decode_boxes(read_npy(kGolden / fmt::format("bevformer/output_1_{}.npy", k)),
                                                          read_npy(kGolden / fmt::format("bevformer/output_2_{}.npy", k)),
                                                          detector.config()));
  }
}

TEST_CASE("detect3d: a history of another shape is refused, not read past its end") {
  const bevformer::Detector detector(bevformer::default_model_path());
  const detect3d::Scene scene = detect3d::load_scene(kDrive / "frame_00");
  bevformer::History history;
  history.bev = Tensor(DType::F32, {1, 4, 64});
  CHECK_THROWS_WITH_AS(detector.inputs(scene, history), doctest::Contains("a history from another model?"), Error);
}

TEST_CASE("detect3d: host geometry by hand: lidar2img, its inverse, ego motion, the NMS-free decode") {
  // A camera looking along ego +x from (0.5, 0, 1.6): a point 10 m ahead at its height lands on
  // the principal point (MODELS.md's rig check).
  const detect3d::Mat3 k{100, 0, 80, 0, 100, 32, 0, 0, 1};
  const detect3d::Mat4 s2e{0, 0, 1, 0.5, -1, 0, 0, 0, 0, -1, 0, 1.6, 0, 0, 0, 1};
  const detect3d::Mat4 l2i = detect3d::lidar2img(k, s2e);
  double w = 0;
  const detect3d::Vec3 p = detect3d::transform(l2i, {10.5, 0, 1.6}, &w);
  CHECK(p[0] / p[2] == doctest::Approx(80));
  CHECK(p[1] / p[2] == doctest::Approx(32));
  CHECK(p[2] == doctest::Approx(10));
  const detect3d::Mat4 back = detect3d::multiply(detect3d::inverse(l2i, "l2i"), l2i);
  for (size_t i = 0; i < 16; ++i) CHECK(back[i] == doctest::Approx(i % 5 == 0 ? 1.0 : 0.0).epsilon(1e-12));
  // The ego drove 2 m along the old x and now faces 90 degrees left: the old x is the new -y.
  const detect3d::Mat4 before = detect3d::identity4();
  const detect3d::Mat4 after{0, -1, 0, 2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  const auto [shift, dyaw] = bevformer::ego_motion(before, after);
  CHECK(dyaw == doctest::Approx(M_PI / 2));
  CHECK(shift[0] == doctest::Approx(0).epsilon(1e-12));
  CHECK(shift[1] == doctest::Approx(-2));
  // Decode: two queries, two classes; the best (query 1, class 0) first, sizes exp'd, yaw from
  // (sin, cos), a centre far outside the range dropped, one under the threshold dropped.
  Tensor scores = Tensor::from_vector<float>({1, 1, 3, 2}, {-3.f, 0.5f, 2.f, -4.f, 1.f, -1.f});
  Tensor boxes = Tensor::from_vector<float>(
      {1, 1, 3, 10}, {1, 2, 0, 0, -1, 0, 1, 0, 0, 0,          // query 0
                      5, 6, std::log(2.f), std::log(4.f), 0.5f, 0, 0, -1, 3, 4,  // query 1
                      500, 0, 0, 0, 0, 0, 0, 1, 0, 0});        // query 2: 500 m away
  detect3d::DetectorConfig config;
  config.classes = {"a", "b"};
  const std::vector<detect3d::Box3D> out = detect3d::decode_boxes(scores, boxes, config);
  REQUIRE(out.size() == 2);
  CHECK(out[0].class_name == "a");
  CHECK(out[0].center[0] == doctest::Approx(5));
  CHECK(out[0].center[2] == doctest::Approx(0.5));
  CHECK(out[0].size[0] == doctest::Approx(2));
  CHECK(out[0].size[1] == doctest::Approx(4));
  CHECK(out[0].yaw == doctest::Approx(M_PI));
  CHECK(out[0].velocity[1] == doctest::Approx(4));
  CHECK(out[1].class_name == "b");  // query 0, class 1 (logit 0.5)
  CHECK(out[1].score == doctest::Approx(1 / (1 + std::exp(-0.5))));
}
