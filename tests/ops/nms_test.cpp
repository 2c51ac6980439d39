// Tests for ops/nms.cpp. Boxes A = [0,0,1,1], B = [0,0.1,1,1.1] (IoU with A: 0.9/1.1 = 0.82) and
// C = [0,2,1,3] (disjoint); expected selections are worked out by hand.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {
std::vector<int64_t> nms(const std::string& max_boxes, const std::string& score_threshold) {
  std::string text = "graph t opset=11\ninput %boxes f32[1,3,4]\ninput %scores f32[1,1,3]\n";
  text += "const @max i64[1] [" + max_boxes + "]\nconst @iou f32[1] [0.5]\n";
  std::string operands = "%boxes, %scores, @max, @iou";
  if (!score_threshold.empty()) {
    text += "const @score f32[1] [" + score_threshold + "]\n";
    operands += ", @score";
  }
  Graph g = parse_ir(text + "%y i64[?] = NonMaxSuppression " + operands + "\nreturn %y\n");
  infer_types(g);
  const Tensor boxes =
      Tensor::from_vector<float>({1, 3, 4}, {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 2, 1, 3});
  const Tensor scores = Tensor::from_vector<float>({1, 1, 3}, {0.9f, 0.95f, 0.5f});
  const Tensor y = run_reference(g, std::vector<Tensor>{boxes, scores})[0];
  CHECK(y.dims().size() == 2);
  CHECK(y.dims()[1] == 3);
  return y.to_int_vector();
}
}  // namespace

TEST_CASE("NonMaxSuppression: the best box suppresses its overlap; disjoint boxes stay") {
  CHECK(nms("3", "") == std::vector<int64_t>{0, 0, 1, 0, 0, 2});
}

TEST_CASE("NonMaxSuppression: score_threshold and max_output_boxes_per_class limit the selection") {
  CHECK(nms("3", "0.6") == std::vector<int64_t>{0, 0, 1});
  CHECK(nms("1", "") == std::vector<int64_t>{0, 0, 1});
  CHECK(nms("0", "").empty());
}

TEST_CASE("NonMaxSuppression: boxes must be [batches, boxes, 4]") {
  Graph g = parse_ir(
      "graph t opset=11\ninput %b f32[1,3,5]\ninput %s f32[1,1,3]\n"
      "%y i64[?] = NonMaxSuppression %b, %s\nreturn %y\n");
  CHECK_THROWS_WITH_AS(
      infer_types(g),
      doctest::Contains("node 'y' (NonMaxSuppression): boxes f32[1,3,5] must have shape"), Error);
}
