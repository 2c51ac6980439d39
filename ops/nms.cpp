// ops/nms.cpp — NonMaxSuppression: per batch and class, greedily keeps the highest-scoring
// boxes that do not overlap an already kept box by more than iou_threshold.
// ONNX opsets 10, 11. https://onnx.ai/onnx/operators/onnx__NonMaxSuppression.html
//
// Inputs: boxes [B, N, 4], scores [B, C, N], then optional scalars max_output_boxes_per_class
// (default 0: select nothing), iou_threshold (default 0) and score_threshold (default: none).
// Output: selected_indices [count, 3] of (batch, class, box), batch by batch, class by class,
// each class's boxes by descending score; equal scores keep the lower box index first (as
// ONNX Runtime does). Boxes are [y1, x1, y2, x2] with either diagonal (center_point_box=0) or
// [x_center, y_center, width, height] (center_point_box=1).
//
// A box is kept when its score is above score_threshold and its IoU with every kept box is at
// most iou_threshold. The count depends on the data, so infer runs the selection whenever the
// inputs are known (always at run time) and says "unknown" otherwise.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "ops/op_def.h"

namespace nnc {
namespace {

struct Box {
  double y_min, x_min, y_max, x_max;
  double area() const { return (y_max - y_min) * (x_max - x_min); }
};

Box box_at(const std::vector<double>& boxes, int64_t index, bool center_point) {
  const double* b = boxes.data() + index * 4;
  if (center_point) {  // x_center, y_center, width, height
    return {b[1] - b[3] / 2, b[0] - b[2] / 2, b[1] + b[3] / 2, b[0] + b[2] / 2};
  }
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

double iou(const Box& a, const Box& b) {
  const double area_a = a.area(), area_b = b.area();
  if (area_a <= 0 || area_b <= 0) return 0;
  const double height = std::min(a.y_max, b.y_max) - std::max(a.y_min, b.y_min);
  const double width = std::min(a.x_max, b.x_max) - std::max(a.x_min, b.x_min);
  if (height <= 0 || width <= 0) return 0;
  const double intersection = height * width;
  return intersection / (area_a + area_b - intersection);
}

double optional_scalar(const Node& n, const Tensor* t, int input, double fallback) {
  if (!t) return fallback;
  if (t->numel() != 1)
    node_error(n, "input {} must hold one value, not shape {}", input, to_string(t->dims()));
  return t->get_double(0);
}

using Selection = std::vector<std::array<int64_t, 3>>;

// inputs: boxes, scores and the three optional scalars (nullptr when omitted).
Selection select(const Node& n, std::span<const Tensor* const> inputs) {
  const Tensor& boxes_tensor = *inputs[0];
  const Tensor& scores_tensor = *inputs[1];
  const int64_t batches = boxes_tensor.dims()[0], boxes_per_batch = boxes_tensor.dims()[1];
  const int64_t classes = scores_tensor.dims()[1];
  const Tensor* max_output = inputs.size() > 2 ? inputs[2] : nullptr;
  if (max_output && max_output->dtype() != DType::I64)
    node_error(n, "input 2 (max_output_boxes_per_class) must be i64, not {}",
               dtype_name(max_output->dtype()));
  optional_scalar(n, max_output, 2, 0);  // checks that it holds one value
  const int64_t max_per_class = max_output ? max_output->get_int(0) : 0;
  const double iou_threshold = optional_scalar(n, inputs.size() > 3 ? inputs[3] : nullptr, 3, 0);
  const Tensor* score_limit = inputs.size() > 4 ? inputs[4] : nullptr;
  const double score_threshold = optional_scalar(n, score_limit, 4, 0);
  const bool center_point = attr_int(n, "center_point_box") != 0;
  const std::vector<double> boxes = boxes_tensor.to_double_vector();
  const std::vector<double> scores = scores_tensor.to_double_vector();

  Selection selected;
  std::vector<int64_t> order(static_cast<size_t>(boxes_per_batch));
  std::vector<Box> kept;
  for (int64_t b = 0; b < batches; ++b)
    for (int64_t c = 0; c < classes; ++c) {
      const double* class_scores = scores.data() + (b * classes + c) * boxes_per_batch;
      auto score = [&](int64_t i) {  // NaN sorts last, keeping the order strict
        return std::isnan(class_scores[i]) ? -std::numeric_limits<double>::infinity()
                                           : class_scores[i];
      };
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t i, int64_t j) { return score(i) > score(j); });
      kept.clear();
      for (int64_t i : order) {
        if (int64_t(kept.size()) >= max_per_class) break;
        if (score_limit && !(score(i) > score_threshold)) break;  // the rest score lower
        const Box box = box_at(boxes, b * boxes_per_batch + i, center_point);
        const bool overlaps = std::any_of(
            kept.begin(), kept.end(), [&](const Box& k) { return iou(box, k) > iou_threshold; });
        if (overlaps) continue;
        kept.push_back(box);
        selected.push_back({b, c, i});
      }
    }
  return selected;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& boxes = c.in(0);
  const TensorType& scores = c.in(1);
  expect_dtype(c.node, 0, boxes.dtype, {DType::F32, DType::F16, DType::F64});
  expect_dtype(c.node, 1, scores.dtype, {DType::F32, DType::F16, DType::F64});
  if (boxes.shape.rank_known &&
      (boxes.rank() != 3 || (boxes.shape.dims[2].known() && boxes.shape.dims[2].value != 4)))
    node_error(c.node, "boxes {} must have shape [batches, boxes, 4]", to_string(boxes));
  if (scores.shape.rank_known && scores.rank() != 3)
    node_error(c.node, "scores {} must have shape [batches, classes, boxes]", to_string(scores));
  if (boxes.shape.rank_known && scores.shape.rank_known) {
    const Dim &b0 = boxes.shape.dims[0], &s0 = scores.shape.dims[0];
    const Dim &b1 = boxes.shape.dims[1], &s2 = scores.shape.dims[2];
    if ((b0.known() && s0.known() && b0.value != s0.value) ||
        (b1.known() && s2.known() && b1.value != s2.value))
      node_error(c.node, "boxes {} and scores {} disagree on the batch or box count",
                 to_string(boxes), to_string(scores));
  }
  const int count = c.input_count();
  std::vector<const Tensor*> values;
  for (int i = 0; i < count; ++i) {
    if (c.has_input(i) && !c.value(i)) return {{DType::I64, Shape({Dim(), Dim(3)})}};
    values.push_back(c.value(i));
  }
  return {{DType::I64, Shape(Dims{int64_t(select(c.node, values).size()), 3})}};
}

void reference(KernelContext& k) {
  const Selection selected = select(k.node, k.inputs);
  int64_t* out = k.out(0).data<int64_t>();
  for (size_t i = 0; i < selected.size(); ++i) std::copy_n(selected[i].data(), 3, out + i * 3);
}

}  // namespace

extern const OpDef kNonMaxSuppression{
    .kind = OpKind::NonMaxSuppression,
    .onnx_name = "NonMaxSuppression",
    .min_inputs = 2,
    .max_inputs = 5,
    .attrs = {AttrSpec{"center_point_box", AttrType::Int, int64_t{0}}},
    .infer = infer,
    .reference = reference,
};

}  // namespace nnc
